"""Deterministic demo data for the standard CRM package (metadata/standard/*.yaml).

This module owns the *content* of the sample records only: accounts, contacts, opportunities,
activities and leads as plain dicts in API input form (decimals as "125000.00", dates "YYYY-MM-DD",
datetimes ISO-8601 with "Z", picklist values by `value`). Each record carries a temporary "_key"
("account:3"); lookup fields hold the target's "_key" and the loader translates keys to ids.
AUTO_NUMBER and readOnly fields are never emitted. Standard library only; all randomness comes from
`random.Random(seed)` and all dates are relative to the fixed REFERENCE_DATE, never today.
"""

from __future__ import annotations

import datetime as dt
import math
import random

REFERENCE_DATE = dt.date(2026, 11, 26)

# code: (country name, dial prefix, Chinese-language records)
_COUNTRIES = {
    "GB": ("United Kingdom", "+44", False), "DE": ("Germany", "+49", False), "US": ("United States", "+1", False),
    "FR": ("France", "+33", False), "CH": ("Switzerland", "+41", False), "NL": ("Netherlands", "+31", False),
    "SG": ("Singapore", "+65", False), "AU": ("Australia", "+61", False), "JP": ("Japan", "+81", False),
    "ES": ("Spain", "+34", False), "CA": ("Canada", "+1", False), "CN": ("中国", "+86", True),
}
# name|country|city|industry|domain|LEI|parent index (into this list)
_COMPANIES = [c.split("|") for c in """\
Shell plc|GB|London|energy|shell.com|21380068P1DRHMJ8KU70|
Siemens AG|DE|Munich|manufacturing|siemens.com|W38RGI023J3WT1HWRP32|
Volkswagen AG|DE|Wolfsburg|automotive|volkswagen.de|529900NNUPAGGOMPXZ31|
Deutsche Bank AG|DE|Frankfurt am Main|financialServices|db.com|7LTWFZYICNSX8D621K86|
Microsoft Corporation|US|Redmond|technology|microsoft.com|INR2EJN1ERAN0W5ZP974|
华为技术有限公司|CN|深圳|technology|huawei.com||
上海汽车集团股份有限公司|CN|上海|automotive|saicmotor.com||
招商银行股份有限公司|CN|深圳|financialServices|cmbchina.com||
美的集团股份有限公司|CN|佛山|manufacturing|midea.com||
宁德时代新能源科技股份有限公司|CN|宁德|energy|catl.com||
Siemens Mobility GmbH|DE|Munich|manufacturing|mobility.siemens.com||1
Shell Energy Retail Ltd|GB|Manchester|energy|shellenergy.co.uk||0
华为云计算技术有限公司|CN|贵阳|technology|huaweicloud.com||5
Northwind Traders Ltd|GB|Leeds|retail|northwindtraders.co.uk||
Contoso Healthcare Inc.|US|Boston|healthcare|contosohealth.com||
Fabrikam Industries GmbH|DE|Stuttgart|manufacturing|fabrikam.de||
Meridian Telecom S.A.|FR|Paris|telecommunications|meridiantel.fr||
杭州云帆科技有限公司|CN|杭州|technology|yunfan-tech.cn||
苏州精工机械制造有限公司|CN|苏州|manufacturing|szjinggong.cn||
北京瑞康医疗器械有限公司|CN|北京|healthcare|ruikang-med.cn||
Blue Harbor Logistics Pte Ltd|SG|Singapore|other|blueharbor.sg||
Alpine Ridge University|CH|Zurich|education|alpineridge.edu||
City of Springfield|US|Springfield|government|springfield.gov||
成都天府智慧教育科技有限公司|CN|成都|education|tfedu.cn||
广州百汇零售连锁有限公司|CN|广州|retail|baihui-retail.cn||
武汉光谷信息技术股份有限公司|CN|武汉|technology|ggit.com.cn||
Helios Solar B.V.|NL|Rotterdam|energy|heliossolar.nl||
Atlas Capital Partners LLC|US|New York|financialServices|atlascap.com||
Nordlicht Pharma AG|CH|Basel|healthcare|nordlicht-pharma.ch||
青岛海联物流有限公司|CN|青岛|other|hailian-logistics.cn||
南京市数据资源管理局|CN|南京|government|njdata.gov.cn||
深圳前海鼎盛资本管理有限公司|CN|深圳|financialServices|dingsheng-capital.cn||
Pacific Rim Retail Group|AU|Sydney|retail|pacificrimretail.com.au||
Tokai Precision Co., Ltd.|JP|Nagoya|manufacturing|tokai-precision.co.jp||
天津滨海新能源有限公司|CN|天津|energy|bhxny.cn||
重庆长江汽车零部件有限公司|CN|重庆|automotive|cj-autoparts.cn||
西安秦川电信工程有限公司|CN|西安|telecommunications|qinchuan-tel.cn||
Vantage Motors Ltd|GB|Coventry|automotive|vantagemotors.co.uk||
Iberia Renewables S.L.|ES|Madrid|energy|iberiarenew.es||
Maple Leaf Analytics Inc.|CA|Toronto|technology|mapleleafanalytics.ca||""".splitlines()]

_EN_FIRST = ["James", "Emma", "Oliver", "Sophia", "Lukas", "Anna", "Thomas", "Laura", "Daniel", "Claire", "Pierre", "Sarah", "Mark", "Julia", "Kenji", "Elena"]
_EN_LAST = ["Smith", "Müller", "Johnson", "Schmidt", "Brown", "Dubois", "Wilson", "Taylor", "Weber", "Martin", "Clarke", "Tanaka", "Garcia", "Young"]
_CN_LAST = [("王", "wang"), ("李", "li"), ("张", "zhang"), ("刘", "liu"), ("陈", "chen"), ("杨", "yang"),
            ("赵", "zhao"), ("黄", "huang"), ("周", "zhou"), ("吴", "wu"), ("徐", "xu"), ("孙", "sun")]
_CN_FIRST = [("伟", "wei"), ("芳", "fang"), ("娜", "na"), ("敏", "min"), ("静", "jing"), ("磊", "lei"), ("强", "qiang"),
             ("婷", "ting"), ("杰", "jie"), ("晓明", "xiaoming"), ("海燕", "haiyan"), ("建华", "jianhua")]
# (title en, department en, title zh, department zh, decision role)
_TITLES = [tuple(t.split("|")) for t in (
    "CEO|Executive|总经理|总经办|decisionMaker", "CFO|Finance|财务总监|财务部|decisionMaker",
    "CIO|IT|信息化总监|信息技术部|influencer", "VP Sales|Sales|销售副总裁|销售部|champion",
    "Procurement Manager|Procurement|采购经理|采购部|gatekeeper", "IT Manager|IT|IT经理|信息技术部|influencer",
    "Operations Manager|Operations|运营经理|运营部|user", "Sales Operations Analyst|Sales|销售运营专员|销售部|user")]
_INDUSTRIES = ["technology", "manufacturing", "financialServices", "energy", "healthcare", "retail", "automotive", "telecommunications", "education", "government", "other"]
_SOURCES = ["web", "referral", "event", "partner", "coldCall", "advertisement", "tender", "other"]
_PRODUCTS = {"crmSuite": ("CRM Suite", "CRM 套件"), "marketingCloud": ("Marketing Cloud", "营销云"),
             "serviceCloud": ("Service Cloud", "服务云"), "analytics": ("Analytics", "数据分析"),
             "integrationPlatform": ("Integration Platform", "集成平台"),
             "professionalServices": ("Professional Services", "专业服务")}
# stage: (weight, probability, forecast category, next step en, next step zh)
_STAGES = {
    "prospecting": (15, 10, "pipeline", "Schedule discovery call", "安排初次沟通"),
    "qualification": (14, 20, "pipeline", "Confirm budget and decision makers", "确认预算和决策人"),
    "needsAnalysis": (12, 40, "pipeline", "Run requirements workshop", "开展需求调研会"),
    "proposal": (13, 60, "bestCase", "Send proposal and pricing", "提交方案和报价"),
    "negotiation": (11, 80, "commit", "Agree contract terms with procurement", "与采购部确认合同条款"),
    "closedWon": (20, 100, "closed", None, None),
    "closedLost": (15, 0, "omitted", None, None),
}
_COMPETITORS = ["Salesforce", "Microsoft Dynamics 365", "HubSpot", "纷享销客", "销售易", "Zoho CRM"]
# type: (subject en, subject zh, minutes range or None)
_ACTIVITY = {"call": ("Follow-up call", "电话跟进", (5, 45)), "visit": ("On-site visit", "上门拜访", (60, 180)),
             "meeting": ("Solution meeting", "方案交流会", (30, 120)), "task": ("Prepare quote", "准备报价单", None),
             "email": ("Send case studies", "发送客户案例", None)}
_LEAD_EN = (["Redwood", "Silverline", "Brightpath", "Oakmont", "Crescent", "Summit", "Evergreen", "Ironbridge", "Lakeside", "Nimbus"],
            ["Systems", "Foods", "Logistics", "Energy", "Clinics", "Robotics"], ["Ltd", "Inc.", "GmbH", "LLC"])
_LEAD_CN = ([("星辰", "xingchen"), ("汇通", "huitong"), ("恒远", "hengyuan"), ("博睿", "borui"), ("智联", "zhilian"),
             ("鼎新", "dingxin"), ("润达", "runda")], ["深圳", "杭州", "上海", "北京", "成都", "苏州"],
            ["科技", "物流", "医疗", "能源", "贸易"])
_DISQUALIFY = ["No budget this year", "Student / research inquiry", "Already under contract with a competitor",
               "无采购计划", "重复线索", "联系方式无效"]


def _ts(day: dt.date, rng: random.Random) -> dt.datetime:
    """A business-hours timestamp (UTC) on `day`."""
    return dt.datetime.combine(day, dt.time(rng.randint(1, 15), rng.choice((0, 15, 30, 45))))


def _iso(value: dt.datetime) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")


def _phone(rng: random.Random, dial: str, mobile: bool = False) -> str:
    if dial == "+86":
        area = f"1{rng.choice('3589')}{rng.randint(0, 9)}" if mobile else rng.choice(["10", "21", "755", "571"])
        return f"+86 {area} {rng.randint(1000, 9999)} {rng.randint(1000, 9999)}"
    return f"{dial} {rng.randint(100, 999)} {rng.randint(100, 999)} {rng.randint(1000, 9999)}"


def _person(rng: random.Random, cn: bool) -> tuple[str, str, str]:
    """Return (firstName, lastName, email local part)."""
    if cn:
        (last, last_py), (first, first_py) = rng.choice(_CN_LAST), rng.choice(_CN_FIRST)
        return first, last, f"{first_py}.{last_py}"
    first, last = rng.choice(_EN_FIRST), rng.choice(_EN_LAST)
    return first, last, f"{first}.{last}".lower().replace("ü", "ue")


def standard_sample(seed: int = 7, accounts: int = 40) -> dict[str, list[dict]]:
    """Return records keyed by object name, in insertion order: account, contact, opportunity, activity, lead."""
    rng = random.Random(seed)
    out: dict[str, list[dict]] = {"account": [], "contact": [], "opportunity": [], "activity": [], "lead": []}
    contacts_of: dict[str, list[dict]] = {}

    def add(obj: str, record: dict) -> dict:
        record = {"_key": f"{obj}:{len(out[obj]) + 1}", **record}
        out[obj].append(record)
        return record

    def activity(acc: dict, contact: dict, cn: bool, due: dt.datetime, opp: dict | None = None) -> None:
        kind = rng.choices(list(_ACTIVITY), weights=(35, 20, 20, 15, 10))[0]
        subject_en, subject_zh, minutes = _ACTIVITY[kind]
        past = due.date() < REFERENCE_DATE
        status = rng.choices(["completed", "cancelled"], weights=(85, 15))[0] if past else (
            "inProgress" if due.date() == REFERENCE_DATE else "planned")
        rec = {"subject": f"{subject_zh}：{contact['lastName']}{contact['firstName']}" if cn
               else f"{subject_en} with {contact['firstName']} {contact['lastName']}",
               "activityType": kind, "status": status,
               "priority": rng.choices(["high", "normal", "low"], weights=(25, 60, 15))[0],
               "dueAt": _iso(due), "account": acc["_key"], "contact": contact["_key"]}
        if minutes:
            rec["durationMinutes"] = rng.randrange(minutes[0], minutes[1] + 1, 5)
        if status == "completed":
            rec["completedAt"] = _iso(due + dt.timedelta(minutes=rec.get("durationMinutes", 30)))
        if kind == "visit":
            rec["location"] = f"{acc['billingCity']} {acc['billingStreet']}"
        elif kind == "meeting":
            rec["location"] = rng.choice(["腾讯会议", "飞书会议"] if cn else ["Zoom", "Microsoft Teams"])
        if opp is not None:
            rec["opportunity"] = opp["_key"]
        add("activity", rec)

    for i in range(accounts):
        name, code, city, industry, domain, lei, parent = _COMPANIES[i % len(_COMPANIES)]
        if i >= len(_COMPANIES):  # beyond the curated list: numbered branches, no LEI, no parent
            name, domain, lei, parent = f"{name} ({i // len(_COMPANIES) + 1})", f"b{i}.{domain}", "", ""
        country, dial, cn = _COUNTRIES[code]
        employees = int(10 ** rng.uniform(4.3 if i < 10 else 1.7, 5.6 if i < 10 else 4.5))  # first 10: large groups
        acc = add("account", {
            "name": name, "industry": industry, "accountType": "prospect", "website": f"https://www.{domain}",
            "phone": _phone(rng, dial), "email": f"{'info' if not cn else 'contact'}@{domain}",
            "employees": employees, "annualRevenue": f"{round(employees * rng.uniform(80, 400)) * 1000:.2f}",
            "rating": rng.choice(["hot", "warm", "cold"]), "billingCountry": country, "billingCity": city,
            "billingStreet": (f"{rng.choice(['高新区创新', '经开区建设'])}路{rng.randint(1, 999)}号" if cn
                              else f"{rng.randint(1, 250)} {rng.choice(['High', 'Market', 'Park'])} Street"),
            "description": f"{name}，总部位于{city}。" if cn else f"{name}, headquartered in {city}.",
        })
        acc.update({"lei": lei} if lei else {})
        # USCC-, Handelsregister- and Companies-House-style numbers (format only, not real registrations)
        reg = {"DE": f"HRB {rng.randint(10000, 99999)}", "GB": f"{rng.randint(1, 10**8):08d}",
               "CN": "91" + "".join(rng.choice("0123456789ABCDEFGHJKLMNPQRTUWXY") for _ in range(16))}.get(code)
        acc.update({"registrationNumber": reg} if reg else {})
        if parent and i < len(_COMPANIES):
            acc["parentAccount"] = out["account"][int(parent)]["_key"]

        contacts = []
        for title in rng.sample(_TITLES, rng.randint(2, 4)):
            first, last, local = _person(rng, cn)
            contact = {"firstName": first, "lastName": last, "email": f"{local}@{domain}",
                       "phone": _phone(rng, dial), "mobile": _phone(rng, dial, mobile=True),
                       "title": title[2] if cn else title[0], "department": title[3] if cn else title[1],
                       "account": acc["_key"], "decisionRole": title[4], "doNotCall": rng.random() < 0.1}
            if rng.random() < 0.5:
                contact["birthdate"] = f"{rng.randint(1965, 1996)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
            if cn:
                contact["wechat"] = f"{local.replace('.', '_')}{rng.randint(10, 999)}"
            contacts.append(add("contact", contact))
        contacts_of[acc["_key"]] = contacts

        for _ in range(rng.randint(1, 5)):
            stage = rng.choices(list(_STAGES), weights=[s[0] for s in _STAGES.values()])[0]
            _, probability, forecast, step_en, step_zh = _STAGES[stage]
            closed = stage.startswith("closed")
            close = REFERENCE_DATE + dt.timedelta(days=-rng.randint(1, 329) if closed else rng.randint(-30, 35))
            entered = _ts(close, rng) if closed else _ts(REFERENCE_DATE - dt.timedelta(days=rng.randint(1, 90)), rng)
            products = sorted(rng.sample(list(_PRODUCTS), rng.randint(1, 3)), key=list(_PRODUCTS).index)
            amount = round(math.exp(rng.uniform(math.log(5_000), math.log(2_000_000))) / 500) * 500
            product_label = _PRODUCTS[products[0]][1 if cn else 0]
            opp = {"name": f"{name} {product_label}项目" if cn else f"{name} – {product_label}",
                   "account": acc["_key"], "contact": rng.choice(contacts)["_key"], "amount": f"{amount:.2f}",
                   "probability": f"{probability:.2f}", "stage": stage, "closeDate": close.isoformat(),
                   "opportunityType": rng.choices(["newBusiness", "renewal", "upsell"], weights=(60, 25, 15))[0],
                   "leadSource": rng.choice(_SOURCES), "forecastCategory": forecast,
                   "stageEnteredAt": _iso(entered), "products": products}
            if not closed:
                opp["nextStep"] = step_zh if cn else step_en
            if stage == "closedLost":
                opp["lossReason"] = rng.choice(["price", "competitor", "noBudget", "noDecision", "timing", "other"])
                opp.update({"competitor": rng.choice(_COMPETITORS)} if opp["lossReason"] == "competitor" else {})
            if stage == "closedWon":
                acc["accountType"] = "customer"
            opp = add("opportunity", opp)
            anchor = close if closed else REFERENCE_DATE
            for _ in range(rng.randint(0, 3)):
                due = _ts(anchor + dt.timedelta(days=rng.randint(-45, 0 if closed else 20)), rng)
                activity(acc, rng.choice(contacts), cn, due, opp)
        for _ in range(rng.randint(1, 2)):
            activity(acc, rng.choice(contacts), cn, _ts(REFERENCE_DATE + dt.timedelta(days=rng.randint(-60, 14)), rng))
        if acc["accountType"] == "prospect" and rng.random() < 0.1:
            acc["accountType"] = "partner"

    for _ in range(30):
        status = rng.choices(["new", "working", "nurturing", "qualified", "unqualified"], (25, 25, 20, 15, 15))[0]
        score = {"qualified": rng.randint(70, 100), "unqualified": rng.randint(0, 30)}.get(status, rng.randint(20, 80))
        lead = {"leadSource": rng.choice(_SOURCES), "status": status, "score": score,
                "rating": "hot" if score >= 70 else "warm" if score >= 40 else "cold"}
        if status == "qualified" and out["account"] and rng.random() < 0.6:  # converted into an existing account
            acc = rng.choice(out["account"])
            contact = rng.choice(contacts_of[acc["_key"]])
            lead.update({k: contact[k] for k in ("firstName", "lastName", "title", "email", "phone")},
                        company=acc["name"], industry=acc["industry"], convertedAccount=acc["_key"],
                        convertedContact=contact["_key"])
            add("lead", lead)
            continue
        cn = rng.random() < 0.5
        first, last, local = _person(rng, cn)
        if cn:
            (brand, brand_py), city, biz = rng.choice(_LEAD_CN[0]), rng.choice(_LEAD_CN[1]), rng.choice(_LEAD_CN[2])
            company, domain, dial = f"{city}{brand}{biz}有限公司", f"{brand_py}.cn", "+86"
        else:
            word, biz, legal = rng.choice(_LEAD_EN[0]), rng.choice(_LEAD_EN[1]), rng.choice(_LEAD_EN[2])
            company, domain, dial = f"{word} {biz} {legal}", f"{word}{biz}.com".lower(), rng.choice(["+1", "+44"])
        title = rng.choice(_TITLES)
        lead.update(firstName=first, lastName=last, company=company, title=title[2] if cn else title[0],
                    email=f"{local}@{domain}", phone=_phone(rng, dial, mobile=True), industry=rng.choice(_INDUSTRIES))
        if status == "unqualified":
            lead["disqualifyReason"] = rng.choice(_DISQUALIFY)
        add("lead", lead)
    return out
