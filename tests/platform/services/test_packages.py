"""YAML metadata packages (tessera.services.packages): reading, applying idempotently, exporting, round
trips between tenants, refusals that name object.field, and the standard package every tenant gets."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from tessera.core.errors import TesseraError, UnsafeChange, ValidationError
from tessera.model.definitions import TenantMetadata
from tessera.model.registry import load_metadata
from tessera.services.packages import (
    apply_package,
    export_metadata,
    read_package,
    standard_package_dir,
)
from tessera.services.runtime import Actor, Runtime
from tessera.services.tenants import CreatedTenant
from tessera.testing import GraphQLClient, tenant_scope

NO_CHANGE = {"objectsCreated": 0, "objectsUpdated": 0, "fieldsCreated": 0, "fieldsUpdated": 0, "rulesCreated": 0, "rulesUpdated": 0, "workflowsCreated": 0, "workflowsUpdated": 0, "automationApplied": 0}

PROJECT_YAML = """\
name: project
pluralName: projects
label: {en: Project, zh: 项目}
pluralLabel: {en: Projects, zh: 项目}
description: {en: A piece of work for an account, zh: 为客户开展的工作}
fields:
  - name: title
    type: TEXT
    label: {en: Title, zh: 标题}
    required: true
    maxLength: 120
    indexed: true
  - name: code
    type: AUTO_NUMBER
    format: "PRJ-{0000}"
  - name: budget
    type: CURRENCY
    precision: 14
    scale: 2
    defaultValue: "1000"
    helpText: {en: Approved budget, zh: 批准的预算}
  - name: phase
    type: PICKLIST
    defaultValue: plan
    options:
      - {value: plan, label: {en: Plan, zh: 计划}, color: "#1e88e5"}
      - {value: build, label: {en: Build, zh: 建设}}
      - {value: done, label: Done, active: false}
  - name: account
    type: LOOKUP
    target: account
    onDelete: CASCADE
  - name: lead
    type: LOOKUP
    target: milestone
  - name: startsOn
    type: DATE
  - name: extra
    type: JSON
"""
MILESTONE_YAML = """\
name: milestone
pluralName: milestones
fields:
  - {name: project, type: LOOKUP, target: project, onDelete: RESTRICT}
  - {name: dueAt, type: DATETIME, required: true}
  - {name: tags, type: MULTI_PICKLIST, options: [{value: risk}, {value: external}]}
  - {name: weight, type: PERCENT, unique: true}
"""


@pytest.fixture(scope="module")
def shared_tenant(runtime: Runtime) -> Iterator[CreatedTenant]:
    """One tenant for read-only checks and for packages of objects with names of their own."""
    with tenant_scope(runtime) as created:
        yield created


def _actor(runtime: Runtime, created: CreatedTenant) -> Actor:
    return Actor(runtime.tenant(created.tenant.slug), created.admin_user_id)


def _meta(runtime: Runtime, created: CreatedTenant) -> TenantMetadata:
    ref = runtime.tenant(created.tenant.slug)
    with runtime.db.system.connect() as conn:
        return load_metadata(conn, ref)


def _package_dir(root: Path) -> Path:
    package = root / "pkg"
    package.mkdir()
    (package / "package.yaml").write_text(
        "package: delivery\nversion: 1\nobjects: [project, milestone]\n", encoding="utf-8"
    )
    (package / "project.yaml").write_text(PROJECT_YAML, encoding="utf-8")
    (package / "milestone.yaml").write_text(MILESTONE_YAML, encoding="utf-8")
    return package


# --- the standard package ---------------------------------------------------------------------


def test_standard_package_is_installed_in_every_new_tenant(
    runtime: Runtime, shared_tenant: CreatedTenant
) -> None:
    # given a new tenant
    meta = _meta(runtime, shared_tenant)
    # then it has the five standard objects, in installation order, as standard objects
    assert [o.name for o in meta.objects] == ["account", "contact", "lead", "opportunity", "activity"]
    assert {o.origin for o in meta.objects} == {"standard"}
    assert [o.plural_name for o in meta.objects] == [
        "accounts",
        "contacts",
        "leads",
        "opportunities",
        "activities",
    ]
    # and every object and field is labelled in English and Chinese
    for obj in meta.objects:
        assert set(obj.labels) == {"en", "zh"} and set(obj.plural_labels) == {"en", "zh"}, obj.name
        for field in obj.fields:
            assert set(field.labels) == {"en", "zh"}, f"{obj.name}.{field.name}"
            assert field.origin == "standard"
    account = meta.by_name["account"]
    assert account.labels["zh"] == "客户"
    assert account.fields_by_name["name"].required is True
    assert account.fields_by_name["name"].type == "TEXT"
    # and an opportunity has its name, amount, stage, close date and account
    opportunity = meta.by_name["opportunity"]
    fields = opportunity.fields_by_name
    assert {"name", "amount", "stage", "closeDate", "account"} <= set(fields)
    assert [fields[n].type for n in ("name", "amount", "stage", "closeDate", "account")] == [
        "TEXT",
        "CURRENCY",
        "PICKLIST",
        "DATE",
        "LOOKUP",
    ]
    assert fields["account"].target == "account"
    assert fields["stage"].required is True and fields["stage"].default_value == "prospecting"
    assert opportunity.labels == {"en": "Opportunity", "zh": "商机"}


def test_standard_package_reads_in_manifest_order(runtime: Runtime, shared_tenant: CreatedTenant) -> None:
    # given the shipped standard package
    objects = read_package(standard_package_dir())
    # then it reads as the five objects, and applying it again to a tenant changes nothing
    assert [o["name"] for o in objects] == ["account", "contact", "lead", "opportunity", "activity"]
    before = _meta(runtime, shared_tenant).objects
    assert apply_package(runtime, _actor(runtime, shared_tenant), objects, origin="standard") == NO_CHANGE
    assert _meta(runtime, shared_tenant).objects == before


# --- reading ----------------------------------------------------------------------------------


def test_read_package_directory_follows_the_manifest(tmp_path: Path) -> None:
    # given a package directory listing project then milestone
    objects = read_package(_package_dir(tmp_path))
    # then both objects are read, in that order, as written
    assert [o["name"] for o in objects] == ["project", "milestone"]
    assert objects[0] == yaml.safe_load(PROJECT_YAML)
    assert objects[1] == yaml.safe_load(MILESTONE_YAML)


def test_read_package_file_with_an_objects_list(tmp_path: Path) -> None:
    # given one file holding objects: [...]
    path = tmp_path / "bundle.yaml"
    document = {"objects": [yaml.safe_load(PROJECT_YAML), yaml.safe_load(MILESTONE_YAML)]}
    path.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")
    # then the objects are read in file order
    assert read_package(path) == document["objects"]


def test_read_package_file_with_a_single_object(tmp_path: Path) -> None:
    # given one file holding a single object
    path = tmp_path / "milestone.yaml"
    path.write_text(MILESTONE_YAML, encoding="utf-8")
    # then it reads as a package of that object
    assert read_package(path) == [yaml.safe_load(MILESTONE_YAML)]


def test_invalid_yaml_is_refused_naming_the_file(tmp_path: Path) -> None:
    # given a file that is not valid YAML
    path = tmp_path / "broken.yaml"
    path.write_text("name: project\nfields: [\n  - {name: title\n", encoding="utf-8")
    # when it is read
    with pytest.raises(ValidationError) as refused:
        read_package(path)
    # then it is refused naming the file and the problem
    assert refused.value.field == "file"
    assert refused.value.message.startswith("broken.yaml: not valid YAML")


def test_yaml_that_is_not_a_mapping_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "list.yaml"
    path.write_text("- a\n- b\n", encoding="utf-8")
    with pytest.raises(ValidationError) as refused:
        read_package(path)
    assert refused.value.message == "list.yaml: expected a mapping at the top level"


def test_package_directory_with_a_missing_object_file_is_refused(tmp_path: Path) -> None:
    # given a manifest naming an object whose file is missing
    package = _package_dir(tmp_path)
    (package / "milestone.yaml").unlink()
    # when it is read
    with pytest.raises(ValidationError) as refused:
        read_package(package)
    # then the missing file is named
    assert "milestone.yaml" in refused.value.message and "does not exist" in refused.value.message


# --- applying ---------------------------------------------------------------------------------


def test_apply_creates_objects_with_mutual_lookups_and_reapply_is_a_no_op(
    app: Any, runtime: Runtime, shared_tenant: CreatedTenant, tmp_path: Path
) -> None:
    # given a package whose objects look each other up
    # (project.lead -> milestone, milestone.project -> project)
    objects = read_package(_package_dir(tmp_path))
    actor = _actor(runtime, shared_tenant)
    # when it is applied
    counts = apply_package(runtime, actor, objects)
    # then both objects and all their fields are created
    assert counts == {"objectsCreated": 2, "objectsUpdated": 0, "fieldsCreated": 12, "fieldsUpdated": 0, "rulesCreated": 0, "rulesUpdated": 0, "workflowsCreated": 0, "workflowsUpdated": 0, "automationApplied": 0}
    meta = _meta(runtime, shared_tenant)
    project, milestone = meta.by_name["project"], meta.by_name["milestone"]
    assert [f.name for f in project.fields] == [
        "title",
        "code",
        "budget",
        "phase",
        "account",
        "lead",
        "startsOn",
        "extra",
    ]
    assert project.fields_by_name["lead"].target == "milestone"
    assert milestone.fields_by_name["project"].target == "project"
    assert project.fields_by_name["budget"].default_value == "1000.00"
    assert project.description == {"en": "A piece of work for an account", "zh": "为客户开展的工作"}
    # and the generated API links the records both ways
    gql = GraphQLClient(app, shared_tenant.token)
    created = gql.data('mutation { createProject(data: {title: "Roll-out"}) { id code budget phase } }')
    project_id = created["createProject"]["id"]
    assert {k: v for k, v in created["createProject"].items() if k != "id"} == {
        "code": "PRJ-0001",
        "budget": "1000.00",
        "phase": "plan",
    }
    milestone_id = gql.data(
        'mutation($p: ID!) { createMilestone(data: {project: $p, dueAt: "2026-03-01T09:00:00Z"}) { id } }',
        {"p": project_id},
    )["createMilestone"]["id"]
    gql.data(
        "mutation($id: ID!, $m: ID!) { updateProject(id: $id, data: {lead: $m}) { id } }",
        {"id": project_id, "m": milestone_id},
    )
    read = gql.data(
        "query($id: ID!) { project(id: $id) { lead { dueAt project { title } } milestones { totalCount } } }",
        {"id": project_id},
    )
    assert read["project"] == {
        "lead": {"dueAt": "2026-03-01T09:00:00.000Z", "project": {"title": "Roll-out"}},
        "milestones": {"totalCount": 1},
    }
    # when it is applied again
    version = runtime.tenant(shared_tenant.tenant.slug).metadata_version
    again = apply_package(runtime, actor, objects)
    # then nothing changes, not even the metadata version
    assert again == NO_CHANGE
    assert _meta(runtime, shared_tenant).objects == meta.objects
    assert runtime.tenant(shared_tenant.tenant.slug).metadata_version == version


def test_apply_updates_what_changed_and_counts_it(runtime: Runtime, shared_tenant: CreatedTenant) -> None:
    # given an applied package
    actor = _actor(runtime, shared_tenant)
    first = [
        {
            "name": "venue",
            "pluralName": "venues",
            "label": "Venue",
            "fields": [
                {"name": "hall", "type": "TEXT", "maxLength": 40},
                {"name": "seats", "type": "INTEGER"},
            ],
        }
    ]
    assert apply_package(runtime, actor, first)["objectsCreated"] == 1
    # when a new version adds a label, widens a field and adds one
    second = [
        {
            "name": "venue",
            "pluralName": "venues",
            "label": {"en": "Venue", "zh": "场地"},
            "fields": [
                {"name": "hall", "type": "TEXT", "maxLength": 80},
                {"name": "seats", "type": "INTEGER"},
                {"name": "city", "type": "TEXT"},
            ],
        }
    ]
    counts = apply_package(runtime, actor, second)
    # then exactly those changes are made and counted
    assert counts == {"objectsCreated": 0, "objectsUpdated": 1, "fieldsCreated": 1, "fieldsUpdated": 1, "rulesCreated": 0, "rulesUpdated": 0, "workflowsCreated": 0, "workflowsUpdated": 0, "automationApplied": 0}
    venue = _meta(runtime, shared_tenant).by_name["venue"]
    assert dict(venue.labels) == {"en": "Venue", "zh": "场地"}
    assert venue.fields_by_name["hall"].opt("maxLength") == 80
    assert [f.name for f in venue.fields] == ["hall", "seats", "city"]
    assert apply_package(runtime, actor, second) == NO_CHANGE


def test_reapply_of_a_package_that_dropped_a_translation_is_a_no_op(
    runtime: Runtime, shared_tenant: CreatedTenant
) -> None:
    # given an applied package with a Chinese label and a help text
    actor = _actor(runtime, shared_tenant)
    first = [
        {
            "name": "kiosk",
            "pluralName": "kiosks",
            "label": {"en": "Kiosk", "zh": "自助终端"},
            "fields": [{"name": "spot", "type": "TEXT", "helpText": "Where it stands"}],
        }
    ]
    apply_package(runtime, actor, first)
    # when its next version, which leaves both out and renames the English label, is applied twice
    second = [
        {
            "name": "kiosk",
            "pluralName": "kiosks",
            "label": {"en": "Self-service kiosk"},
            "fields": [{"name": "spot", "type": "TEXT"}],
        }
    ]
    applied = apply_package(runtime, actor, second)
    version = runtime.tenant(shared_tenant.tenant.slug).metadata_version
    again = apply_package(runtime, actor, second)
    # then the first apply updates the object, and the second one changes nothing, not even the version
    assert applied["objectsUpdated"] == 1
    assert _meta(runtime, shared_tenant).by_name["kiosk"].labels["en"] == "Self-service kiosk"
    assert again == NO_CHANGE
    assert runtime.tenant(shared_tenant.tenant.slug).metadata_version == version


def test_package_extends_a_standard_object_with_custom_fields(
    runtime: Runtime, shared_tenant: CreatedTenant
) -> None:
    # given a package that names the standard account object with one new field
    actor = _actor(runtime, shared_tenant)
    before = _meta(runtime, shared_tenant).by_name["contact"]
    package = [
        {
            "name": "contact",
            "pluralName": "contacts",
            "fields": [{"name": "linkedin", "type": "URL", "label": {"en": "LinkedIn", "zh": "领英"}}],
        }
    ]
    # when it is applied (twice)
    first = apply_package(runtime, actor, package)
    second = apply_package(runtime, actor, package)
    # then only the field is added, as a custom field, and the standard object is otherwise unchanged
    assert first == {"objectsCreated": 0, "objectsUpdated": 0, "fieldsCreated": 1, "fieldsUpdated": 0, "rulesCreated": 0, "rulesUpdated": 0, "workflowsCreated": 0, "workflowsUpdated": 0, "automationApplied": 0}
    assert second == NO_CHANGE
    contact = _meta(runtime, shared_tenant).by_name["contact"]
    assert contact.fields[:-1] == before.fields
    assert (contact.labels, contact.origin) == (before.labels, "standard")
    linkedin = contact.fields[-1]
    assert (linkedin.name, linkedin.type, linkedin.origin, dict(linkedin.labels)) == (
        "linkedin",
        "URL",
        "custom",
        {"en": "LinkedIn", "zh": "领英"},
    )


def test_export_then_apply_into_a_fresh_tenant_then_export_gives_identical_text(
    runtime: Runtime, tenant: CreatedTenant, tmp_path: Path
) -> None:
    # given a tenant with the standard objects and a package with mutual lookups
    apply_package(runtime, _actor(runtime, tenant), read_package(_package_dir(tmp_path)))
    exported = export_metadata(_meta(runtime, tenant))
    document = yaml.safe_load(exported)
    assert [o["name"] for o in document["objects"]] == [
        "account",
        "contact",
        "lead",
        "opportunity",
        "activity",
        "project",
        "milestone",
    ]
    path = tmp_path / "export.yaml"
    path.write_text(exported, encoding="utf-8")
    with tenant_scope(runtime) as fresh:
        # when the export is applied to a fresh tenant
        counts = apply_package(runtime, _actor(runtime, fresh), read_package(path))
        # then only the custom objects are created, and its export is the same text
        assert counts == {"objectsCreated": 2, "objectsUpdated": 0, "fieldsCreated": 12, "fieldsUpdated": 0, "rulesCreated": 0, "rulesUpdated": 0, "workflowsCreated": 0, "workflowsUpdated": 0, "automationApplied": 0}
        assert export_metadata(_meta(runtime, fresh)) == exported
        # and applying the export once more is a no-op
        assert apply_package(runtime, _actor(runtime, fresh), read_package(path)) == NO_CHANGE


def test_invalid_field_is_refused_naming_object_and_field(
    runtime: Runtime, shared_tenant: CreatedTenant
) -> None:
    # given a package whose second object has a field with a reserved name
    actor = _actor(runtime, shared_tenant)
    before = _meta(runtime, shared_tenant).objects
    package = [
        {"name": "studio", "pluralName": "studios", "fields": [{"name": "room", "type": "TEXT"}]},
        {
            "name": "session",
            "pluralName": "sessions",
            "fields": [
                {"name": "studio", "type": "LOOKUP", "target": "studio"},
                {"name": "when", "type": "DATETIME"},
            ],
        },
    ]
    # when it is applied
    with pytest.raises(ValidationError) as refused:
        apply_package(runtime, actor, package)
    # then the refusal names session.when and why, and nothing was applied
    assert refused.value.message == "session.when: field name 'when' is a reserved SQL keyword"
    assert refused.value.field == "name"
    assert _meta(runtime, shared_tenant).objects == before


@pytest.mark.parametrize(
    ("field", "mentions"),
    [
        ({"name": "rank", "type": "INTEGER", "precision": 3}, ("studio2.rank:", "option 'precision'")),
        ({"name": "rank", "type": "RANK"}, ("studio2.rank:", "unknown field type 'RANK'")),
        ({"name": "rank", "type": "LOOKUP", "target": "nothing"}, ("studio2.rank:", "no object 'nothing'")),
        (
            {"name": "rank", "type": "PICKLIST", "options": [{"value": "a"}], "defaultValue": "b"},
            ("studio2.rank:", "defaultValue"),
        ),
    ],
    ids=["option", "type", "target", "default"],
)
def test_invalid_field_settings_are_refused_naming_object_and_field(
    runtime: Runtime, shared_tenant: CreatedTenant, field: dict[str, Any], mentions: tuple[str, ...]
) -> None:
    # given a package with a field whose settings are invalid
    before = _meta(runtime, shared_tenant).objects
    # when it is applied
    with pytest.raises(ValidationError) as refused:
        apply_package(
            runtime,
            _actor(runtime, shared_tenant),
            [
                {
                    "name": "studio2",
                    "pluralName": "studio2s",
                    "fields": [{"name": "ok", "type": "TEXT"}, field],
                },
            ],
        )
    # then the refusal names the object and field, and nothing was applied
    for text in mentions:
        assert text in refused.value.message
    assert _meta(runtime, shared_tenant).objects == before


def test_object_without_a_name_is_refused(runtime: Runtime, shared_tenant: CreatedTenant) -> None:
    with pytest.raises(ValidationError) as refused:
        apply_package(
            runtime,
            _actor(runtime, shared_tenant),
            [
                {"name": "fine", "pluralName": "fines"},
                {"pluralName": "nameless"},
            ],
        )
    assert refused.value.message == "objects.1: an object needs a name"
    assert "fine" not in _meta(runtime, shared_tenant).by_name


def test_unsafe_change_in_a_package_is_refused_and_nothing_applied(
    app: Any, runtime: Runtime, shared_tenant: CreatedTenant
) -> None:
    # given an applied package and a record holding a 5-character value
    actor = _actor(runtime, shared_tenant)
    apply_package(
        runtime,
        actor,
        [
            {
                "name": "booth",
                "pluralName": "booths",
                "fields": [{"name": "code", "type": "TEXT", "maxLength": 10}],
            }
        ],
    )
    GraphQLClient(app, shared_tenant.token).data('mutation { createBooth(data: {code: "ABCDE"}) { id } }')
    before = _meta(runtime, shared_tenant).objects
    # when the next version narrows the field below the data and adds a field
    with pytest.raises(UnsafeChange) as refused:
        apply_package(
            runtime,
            actor,
            [
                {
                    "name": "booth",
                    "pluralName": "booths",
                    "fields": [
                        {"name": "extra", "type": "TEXT"},
                        {"name": "code", "type": "TEXT", "maxLength": 3},
                    ],
                }
            ],
        )
    # then it is refused naming booth.code, and the new field was not added either
    assert "booth.code" in refused.value.message
    assert refused.value.details["records"] == 1
    assert _meta(runtime, shared_tenant).objects == before


def test_refused_lookup_change_in_a_package_names_object_and_field(
    runtime: Runtime, shared_tenant: CreatedTenant
) -> None:
    # given an applied package with a lookup to account
    actor = _actor(runtime, shared_tenant)
    apply_package(
        runtime,
        actor,
        [
            {
                "name": "stall",
                "pluralName": "stalls",
                "fields": [{"name": "tenant2", "type": "LOOKUP", "target": "account"}],
            }
        ],
    )
    # when the next version points the lookup at contact
    with pytest.raises(TesseraError) as refused:
        apply_package(
            runtime,
            actor,
            [
                {
                    "name": "stall",
                    "pluralName": "stalls",
                    "fields": [{"name": "tenant2", "type": "LOOKUP", "target": "contact"}],
                }
            ],
        )
    # then the refusal names stall.tenant2
    assert refused.value.code == "UNSAFE_CHANGE"
    assert "stall.tenant2" in refused.value.message
