"""CRM and marketing automation: Salesforce REST sObjects and HubSpot CRM v3 objects."""

from __future__ import annotations

from company import ids
from company.catalog import COUNTRY_BY_CODE, HS_STAGES
from company.clock import DAY, epoch_day, iso_ms_z, salesforce
from company.model import Company, Lead, Opportunity, Person
from company.noise import email_variant, phone_variant, present
from company.spec import ChangeSet, Record, StreamDef, SystemDef, View

SF_LEADS = StreamDef("leads", "jsonl", ("Id",), "SystemModstamp", "hourly", "Lead")
SF_OPPORTUNITIES = StreamDef("opportunities", "jsonl", ("Id",), "SystemModstamp", "hourly", "Opportunity")
SF_ACCOUNTS = StreamDef("accounts", "jsonl", ("Id",), "SystemModstamp", "daily", "Account")
_OWNERS = tuple(ids.salesforce("005", n) for n in range(1, 7))
_PROBABILITY = {
    "Prospecting": 10,
    "Qualification": 20,
    "Needs Analysis": 30,
    "Proposal/Price Quote": 60,
    "Negotiation/Review": 80,
    "Closed Won": 100,
    "Closed Lost": 0,
}


def _sf_base(sobject: str, ident: str, created: int, updated: int, deleted: bool) -> Record:
    return {
        "attributes": {"type": sobject, "url": f"/services/data/v58.0/sobjects/{sobject}/{ident}"},
        "Id": ident,
        "IsDeleted": deleted,
        "OwnerId": _OWNERS[sum(map(ord, ident)) % len(_OWNERS)],
        "CreatedDate": salesforce(created),
        "LastModifiedDate": salesforce(updated),
        "SystemModstamp": salesforce(updated),
    }


def _person_account(view: View, p: Person) -> Record:
    assert p.sf_account_id is not None
    rec = _sf_base("Account", p.sf_account_id, p.created_ts, p.updated_ts, False)
    rec.update(
        {
            "Name": f"{p.first} {p.last}",
            "IsPersonAccount": True,
            "FirstName": p.first,
            "LastName": p.last,
            "PersonEmail": email_variant(view.seed, "salesforce", p.sf_account_id, p.email),
            "Phone": phone_variant(view.seed, "salesforce", p.sf_account_id, p.phone),
            "Type": "Customer - Direct",
            "Industry": None,
            "NumberOfEmployees": None,
            "Website": None,
            "BillingCity": p.city,
            "BillingCountry": COUNTRY_BY_CODE[p.country].name,
            "AccountSource": "Web",
        }
    )
    return rec


def _business_account(view: View, c: Company) -> Record:
    won = any(o.company_id == c.cid and o.won_ts for o in view.world.opportunities)
    rec = _sf_base("Account", c.sf_id, c.created_ts, c.updated_ts, False)
    rec.update(
        {
            "Name": c.name,
            "IsPersonAccount": False,
            "FirstName": None,
            "LastName": None,
            "PersonEmail": None,
            "Phone": None,
            "Type": "Customer - Direct" if won else "Prospect",
            "Industry": c.industry,
            "NumberOfEmployees": c.employees,
            "Website": f"https://www.{c.domain}",
            "BillingCity": c.city,
            "BillingCountry": COUNTRY_BY_CODE[c.country].name,
            "AccountSource": "Partner Referral" if c.cid % 3 == 0 else "Web",
        }
    )
    return rec


def _lead(view: View, lead: Lead) -> Record:
    p = view.world.persons[lead.pid - 1]
    opp = view.world.opportunities[lead.converted_opp - 1] if lead.converted_opp else None
    company = view.world.companies[opp.company_id - 1] if opp else None
    rec = _sf_base("Lead", lead.sf_id, lead.created_ts, lead.updated_ts, lead.deleted_ts is not None)
    rec.update(
        {
            "FirstName": p.first,
            "LastName": p.last,
            "Company": company.name if company else lead.company_name,
            "Title": lead.title,
            "Email": email_variant(view.seed, "salesforce", lead.sf_id, p.email),
            "Phone": phone_variant(view.seed, "salesforce", lead.sf_id, p.phone),
            "Status": lead.status,
            "LeadSource": lead.source,
            "IsConverted": opp is not None,
            "ConvertedAccountId": company.sf_id if company else None,
            "ConvertedOpportunityId": opp.sf_id if opp else None,
            "ConvertedDate": salesforce(lead.updated_ts)[:10] if opp else None,
            "City": p.city,
            "Country": COUNTRY_BY_CODE[p.country].name,
        }
    )
    return rec


def _opportunity(view: View, opp: Opportunity) -> Record:
    company = view.world.companies[opp.company_id - 1]
    rec = _sf_base("Opportunity", opp.sf_id, opp.created_ts, opp.updated_ts, opp.deleted_ts is not None)
    closed = opp.stage.startswith("Closed")
    rec.update(
        {
            "AccountId": company.sf_id,
            "Name": opp.name,
            "StageName": opp.stage,
            "Amount": opp.amount / 100,
            "Probability": float(_PROBABILITY[opp.stage]),
            "CloseDate": opp.close_date.isoformat(),
            "Type": "New Business",
            "LeadSource": opp.source,
            "IsClosed": closed,
            "IsWon": opp.stage == "Closed Won",
            "ForecastCategoryName": "Closed" if opp.stage == "Closed Won" else "Omitted" if closed else "Pipeline",
            "CurrencyIsoCode": "USD",
            "Seats__c": float(opp.seats),
        }
    )
    return rec


def project_salesforce(view: View) -> dict[str, ChangeSet]:
    w = view.world
    accounts = [_person_account(view, p) for p in w.persons if p.sf_account_id and view.changed(p.updated_ts)]
    accounts += [_business_account(view, c) for c in w.companies if view.changed(c.updated_ts)]
    return {
        "leads": ChangeSet([_lead(view, lead) for lead in w.leads if view.changed(lead.updated_ts)]),
        "opportunities": ChangeSet([_opportunity(view, o) for o in w.opportunities if view.changed(o.updated_ts)]),
        "accounts": ChangeSet(accounts),
    }


SALESFORCE = SystemDef("salesforce", "saas", (SF_LEADS, SF_OPPORTUNITIES, SF_ACCOUNTS), project_salesforce)

# --- HubSpot ---------------------------------------------------------------------------------

HS_CONTACTS = StreamDef("contacts", "jsonl", ("id",), "updatedAt", "hourly", "crm/v3/objects/contacts")
HS_DEALS = StreamDef("deals", "jsonl", ("id",), "updatedAt", "hourly", "crm/v3/objects/deals")
HS_COMPANIES = StreamDef("companies", "jsonl", ("id",), "updatedAt", "daily", "crm/v3/objects/companies")


def _hs_object(ident: int, props: Record, created: int, updated: int, archived_at: int | None) -> Record:
    rec: Record = {
        "id": str(ident),
        "properties": {**props, "createdate": iso_ms_z(created), "hs_object_id": str(ident)},
        "createdAt": iso_ms_z(created),
        "updatedAt": iso_ms_z(updated),
        "archived": archived_at is not None,
    }
    if archived_at is not None:
        rec["archivedAt"] = iso_ms_z(archived_at)
    return rec


def _contact(view: View, p: Person, contact_id: int, primary: bool) -> Record:
    seed = view.seed
    email = None if primary and p.hs_email_missing else email_variant(seed, "hubspot", contact_id, p.email)
    archived = p.hs_archived.get(contact_id)
    updated = max(p.updated_ts, archived or 0)
    company = view.world.companies[p.company_id - 1].name if p.company_id else None
    props = {
        "email": email,
        "firstname": p.first if present(seed, "hubspot", contact_id, "firstname", 0.04) else None,
        "lastname": p.last,
        "phone": phone_variant(seed, "hubspot", contact_id, p.phone),
        "city": p.city,
        "country": COUNTRY_BY_CODE[p.country].name,
        "company": company,
        "lifecyclestage": "lead" if p.is_prospect else "customer",
        "hs_marketable_status": str(p.opt_in).lower(),
        "lastmodifieddate": iso_ms_z(updated),
    }
    return _hs_object(contact_id, props, p.created_ts, updated, archived)


def _contacts(view: View) -> list[Record]:
    rows = []
    for p in view.world.persons:
        for i, contact_id in enumerate(p.hs_ids):
            archived = p.hs_archived.get(contact_id)
            if view.initial and archived is not None:
                continue  # the list endpoint leaves archived records out of a full read
            if view.changed(max(p.updated_ts, archived or 0)):
                rows.append(_contact(view, p, contact_id, i == 0))
    return rows


def _deal(view: View, opp: Opportunity) -> Record:
    assert opp.hs_id is not None
    company = view.world.companies[opp.company_id - 1]
    props = {
        "dealname": opp.name,
        "amount": str(opp.amount // 100),
        "dealstage": HS_STAGES[opp.stage],
        "pipeline": "default",
        "closedate": iso_ms_z(epoch_day(opp.close_date) * DAY),
        "number_of_seats": str(opp.seats),
        "hs_lastmodifieddate": iso_ms_z(opp.updated_ts),
        "salesforceopportunityid": opp.sf_id,
    }
    rec = _hs_object(opp.hs_id, props, opp.created_ts, opp.updated_ts, opp.deleted_ts)
    rec["associations"] = {"companies": {"results": [{"id": str(company.hs_id), "type": "deal_to_company"}]}}
    return rec


def _company(view: View, c: Company) -> Record:
    props = {
        "name": c.name,
        "domain": c.domain,
        "industry": c.industry.upper().replace(" ", "_"),
        "numberofemployees": str(c.employees),
        "city": c.city,
        "country": COUNTRY_BY_CODE[c.country].name,
        "hs_lastmodifieddate": iso_ms_z(c.updated_ts),
    }
    return _hs_object(c.hs_id, props, c.created_ts, c.updated_ts, None)


def project_hubspot(view: View) -> dict[str, ChangeSet]:
    w = view.world
    deals = [
        _deal(view, o)
        for o in w.opportunities
        if o.hs_id is not None and view.changed(o.updated_ts) and not (view.initial and o.deleted_ts)
    ]
    return {
        "contacts": ChangeSet(_contacts(view)),
        "deals": ChangeSet(deals),
        "companies": ChangeSet([_company(view, c) for c in w.companies if view.changed(c.updated_ts)]),
    }


HUBSPOT = SystemDef("hubspot", "saas", (HS_CONTACTS, HS_DEALS, HS_COMPANIES), project_hubspot)
