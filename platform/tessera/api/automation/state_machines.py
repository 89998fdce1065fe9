"""Stage state machines in the admin API: define them (administrators), read them (anyone who may
read the object, so front ends can offer only the allowed moves)."""

from __future__ import annotations

from typing import Any

import graphene

from tessera.api.inputs import service_mutation
from tessera.api.scalars import JSON
from tessera.core.errors import NotFound
from tessera.model.access import Action
from tessera.model.definitions import ObjectDef, StateMachineDef, TransitionDef
from tessera.services.automation import state_machines as service


class StateTransition(graphene.ObjectType):
    """One allowed move; ``from`` null lists a value a record may be created with."""

    from_ = graphene.String(name="from", description="The state moved from (null: an initial state).")
    to = graphene.String(required=True)
    roles = graphene.List(graphene.NonNull(graphene.String), required=True,
                          description="Roles allowed to make the move (empty: anyone who may edit the record).")

    @staticmethod
    def resolve_from_(root: TransitionDef, info: Any) -> str | None:
        return root.from_state

    @staticmethod
    def resolve_to(root: TransitionDef, info: Any) -> str:
        return root.to_state

    @staticmethod
    def resolve_roles(root: TransitionDef, info: Any) -> list[str]:
        return list(root.roles)


class StateMachine(graphene.ObjectType):
    """The allowed transitions of a picklist field and the fields required on entering a state."""

    object = graphene.String(required=True)
    field = graphene.String(required=True)
    transitions = graphene.List(graphene.NonNull(StateTransition), required=True)
    required_fields = graphene.Field(JSON, required=True, name="requiredFields",
                                     description="State → the fields that must have a value on entering it.")
    active = graphene.Boolean(required=True)
    origin = graphene.String(required=True)

    @staticmethod
    def resolve_object(root: StateMachineDef, info: Any) -> str:
        return root.object_name

    @staticmethod
    def resolve_transitions(root: StateMachineDef, info: Any) -> list[TransitionDef]:
        return list(root.transitions)

    @staticmethod
    def resolve_required_fields(root: StateMachineDef, info: Any) -> dict[str, list[str]]:
        return {state: list(names) for state, names in root.required_fields.items()}


StateTransitionInput = type("StateTransitionInput", (graphene.InputObjectType,), {
    "from": graphene.String(description="The state moved from; null for an initial state."),
    "to": graphene.String(required=True),
    "roles": graphene.List(graphene.NonNull(graphene.String), description="Role names; empty: anyone."),
})


class CreateStateMachineInput(graphene.InputObjectType):
    object = graphene.String(required=True)
    field = graphene.String(required=True, description="A PICKLIST field of the object.")
    transitions = graphene.List(graphene.NonNull(StateTransitionInput), required=True)
    requiredFields = JSON(description='State → field names, e.g. {"closedLost": ["lossReason"]}.')
    active = graphene.Boolean(description="Default true.")


class UpdateStateMachineInput(graphene.InputObjectType):
    object = graphene.String(required=True)
    field = graphene.String(required=True)
    transitions = graphene.List(graphene.NonNull(StateTransitionInput), description="Replaces the transitions.")
    requiredFields = JSON(description="Replaces the required fields.")
    active = graphene.Boolean()


def _readable(info: Any, name: str) -> ObjectDef:
    ctx = info.context
    obj = ctx.model.meta.object(name)
    if obj is None or not ctx.access.can(obj, Action.READ):
        raise NotFound(f"object: no object '{name}'", field="object")
    return obj


class StateMachineQuery(graphene.ObjectType):
    state_machines = graphene.List(graphene.NonNull(StateMachine), required=True, name="stateMachines",
                                   object=graphene.String(required=True), description="An object's state machines.")

    @staticmethod
    def resolve_state_machines(root: Any, info: Any, object: str) -> list[StateMachineDef]:
        return service.list_state_machines(_readable(info, object))


class StateMachineMutation(graphene.ObjectType):
    create_state_machine = service_mutation(service.create_state_machine, CreateStateMachineInput, StateMachine,
                                            "Guard a picklist field with allowed transitions (administrators).")
    update_state_machine = service_mutation(service.update_state_machine, UpdateStateMachineInput, StateMachine,
                                            "Change a state machine; lists given replace the stored ones.")
    delete_state_machine = graphene.Field(graphene.NonNull(StateMachine), object=graphene.String(required=True),
                                          field=graphene.String(required=True), description="Remove a state machine.")

    @staticmethod
    def resolve_delete_state_machine(root: Any, info: Any, object: str, field: str) -> StateMachineDef:
        ctx = info.context
        ctx.end_read()
        return service.delete_state_machine(ctx.rt, ctx.actor, {"object": object, "field": field})
