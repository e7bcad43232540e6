"""Enterprise systems: SAP S/4HANA OData v2 (EU entity) and Workday (REST worker/position/org objects)."""

from __future__ import annotations

from company import ids
from company.clock import iso_z, odata_date, to_date
from company.model import Employee, JournalEntry, Order, Organisation, Position, Product
from company.projections.common import money_str
from company.projections.sql import order_status
from company.sim.ledger import to_entity
from company.spec import ChangeSet, Record, StreamDef, SystemDef, View

_SAP = "https://company-sap.company.com/sap/opu/odata/sap"
SAP_ORDERS = StreamDef(
    "sales_orders", "jsonl", ("SalesOrder",), "LastChangeDateTime", "hourly", "API_SALES_ORDER_SRV/A_SalesOrder"
)
SAP_MATERIALS = StreamDef(
    "material_master", "jsonl", ("Product",), "LastChangeDateTime", "daily", "API_PRODUCT_SRV/A_Product"
)
SAP_DOCUMENTS = StreamDef(
    "financial_documents",
    "jsonl",
    ("CompanyCode", "FiscalYear", "AccountingDocument", "AccountingDocumentItem"),
    "CreationDateTime",
    "daily",
    "API_JOURNALENTRYITEMBASIC_SRV/A_JournalEntryItemBasic",
)
_DOC_TYPES = {"sale": "DR", "refund": "DG", "receipt": "WE", "cogs": "WL"}
_CHANNELS = {"web": "10", "mobile": "12", "partner": "20"}


def _offset(ts: int) -> str:
    """OData v2 Edm.DateTimeOffset literal."""
    return f"/Date({ts * 1000}+0000)/"


def _meta(service: str, entity: str, key: str) -> Record:
    uri = f"{_SAP}/{service}/{entity}({key})"
    return {"id": uri, "uri": uri, "type": f"{service}.{entity}Type"}


def _sap_order(view: View, order: Order) -> Record:
    w = view.world
    so = str(1_000_000 + order.oid)
    status = order_status(order)
    done = "C" if status != "PENDING" else "A"
    items = [
        {
            "SalesOrder": so,
            "SalesOrderItem": str(10 * (i + 1)),
            "Material": w.products[li.product_id - 1].sku,
            "SalesOrderItemText": w.products[li.product_id - 1].name,
            "RequestedQuantity": str(li.quantity),
            "RequestedQuantityUnit": "EA",
            "NetAmount": money_str(li.unit_price * li.quantity),
            "TransactionCurrency": order.currency,
        }
        for i, li in enumerate(order.lines)
    ]
    return {
        "__metadata": _meta("API_SALES_ORDER_SRV", "A_SalesOrder", f"'{so}'"),
        "SalesOrder": so,
        "SalesOrderType": "OR",
        "SalesOrganization": "2000",
        "DistributionChannel": _CHANNELS[order.channel],
        "OrganizationDivision": "00",
        "SoldToParty": str(1_000_000 + order.pid),
        "PurchaseOrderByCustomer": f"#{order.number}",
        "SalesOrderDate": odata_date(to_date(order.ts)),
        "CreationDate": odata_date(to_date(order.ts)),
        "CreatedByUser": "SHOPIFY_RFC",
        "LastChangeDateTime": _offset(order.updated_ts),
        "TotalNetAmount": money_str(order.total),
        "TransactionCurrency": order.currency,
        "OverallSDProcessStatus": done,
        "OverallTotalDeliveryStatus": done if status != "CANCELLED" else "",
        "OverallSDDocumentRejectionSts": "C" if status == "CANCELLED" else "A",
        "to_Item": {"results": items},
    }


def _material(view: View, product: Product) -> Record:
    return {
        "__metadata": _meta("API_PRODUCT_SRV", "A_Product", f"'{product.sku}'"),
        "Product": product.sku,
        "ProductType": "HAWA",
        "CrossPlantStatus": "" if product.active else "Z9",
        "CreationDate": odata_date(to_date(product.created_ts)),
        "LastChangeDateTime": _offset(product.updated_ts),
        "IsMarkedForDeletion": not product.active,
        "ProductGroup": product.category[:3].upper(),
        "BaseUnit": "EA",
        "GrossWeight": f"{product.weight_grams / 1000:.3f}",
        "WeightUnit": "KG",
        "to_Description": {"results": [{"Product": product.sku, "Language": "EN", "ProductDescription": product.name}]},
    }


def _document(view: View, je: JournalEntry) -> list[Record]:
    doc = str(4_900_000_000 + je.je_id) if je.kind in ("sale", "refund") else str(100_000_000 + je.je_id)
    year = str(to_date(je.ts).year)
    rows = []
    for n, line in enumerate(je.lines, start=1):
        signed = line.debit - line.credit
        item = f"{n:03d}"
        key = f"CompanyCode='2000',FiscalYear='{year}',AccountingDocument='{doc}',AccountingDocumentItem='{item}'"
        rows.append(
            {
                "__metadata": _meta("API_JOURNALENTRYITEMBASIC_SRV", "A_JournalEntryItemBasic", key),
                "CompanyCode": "2000",
                "FiscalYear": year,
                "AccountingDocument": doc,
                "AccountingDocumentItem": item,
                "AccountingDocumentType": _DOC_TYPES.get(je.kind, "SA"),
                "PostingDate": odata_date(to_date(je.ts)),
                "DocumentDate": odata_date(to_date(je.ts)),
                "GLAccount": f"{line.account:0>10}",
                "DebitCreditCode": "S" if line.debit else "H",
                "AmountInCompanyCodeCurrency": money_str(to_entity(signed, je.currency, "EU")),
                "CompanyCodeCurrency": "EUR",
                "AmountInTransactionCurrency": money_str(signed),
                "TransactionCurrency": je.currency,
                "DocumentItemText": je.memo,
                "AssignmentReference": je.reference,
                "CreationDateTime": _offset(je.ts),
            }
        )
    return rows


def project_sap(view: View) -> dict[str, ChangeSet]:
    w = view.world
    docs = [row for je in w.journal if je.entity == "EU" and view.shows(je.ts) for row in _document(view, je)]
    return {
        "sales_orders": ChangeSet(
            [_sap_order(view, o) for o in w.orders if o.entity == "EU" and view.changed(o.updated_ts)]
        ),
        "material_master": ChangeSet([_material(view, p) for p in w.products if view.changed(p.updated_ts)]),
        "financial_documents": ChangeSet(docs),
    }


SAP = SystemDef("sap", "saas", (SAP_ORDERS, SAP_MATERIALS, SAP_DOCUMENTS), project_sap)

# --- Workday ---------------------------------------------------------------------------------

_WD = "https://wd2-impl-services1.workday.com/ccx/api/v1/northwind"
WD_EMPLOYEES = StreamDef("employees", "jsonl", ("id",), "lastUpdated", "weekly", "workers")
WD_POSITIONS = StreamDef("positions", "jsonl", ("id",), "lastUpdated", "weekly", "positions")
WD_ORGANIZATIONS = StreamDef("organizations", "jsonl", ("id",), "lastUpdated", "weekly", "supervisoryOrganizations")


def _ref(wid: str, descriptor: str) -> Record:
    return {"id": wid, "descriptor": descriptor}


def _worker(view: View, e: Employee, orgs: dict[str, Organisation]) -> Record:
    w = view.world
    org = orgs[e.org_code]
    pos = w.positions[e.pos_id - 1]
    boss = w.employees[e.manager_eid - 100] if e.manager_eid else None
    return {
        "id": e.wid,
        "descriptor": f"{e.first} {e.last}",
        "href": f"{_WD}/workers/{e.wid}",
        "workerId": str(e.eid),
        "primaryWorkEmail": f"{e.first}.{e.last}{e.eid}@northwind-outfitters.com".lower(),
        "businessTitle": e.title,
        "isManager": org.manager_eid == e.eid,
        "workerType": _ref("9248ad8b0b8d10000c2e2aa1b3f60000", "Employee"),
        "primaryJob": {
            "id": ids.workday(view.seed, "job", e.eid),
            "descriptor": e.title,
            "jobProfile": _ref(ids.workday(view.seed, "profile", e.job_id), e.title),
            "position": _ref(pos.wid, f"P-{pos.pos_id:05d} {pos.title}"),
            "supervisoryOrganization": _ref(org.wid, org.name),
            "location": _ref(ids.workday(view.seed, "location", 1), "Newark, NJ"),
        },
        "manager": _ref(boss.wid, f"{boss.first} {boss.last}") if boss else None,
        "hireDate": e.hire_date.isoformat(),
        "terminationDate": e.term_date.isoformat() if e.term_date else None,
        "lastUpdated": iso_z(e.updated_ts),
    }


def _position(view: View, pos: Position, orgs: dict[str, Organisation]) -> Record:
    w = view.world
    holder = w.employees[pos.eid - 100] if pos.eid else None
    org = orgs[pos.org_code]
    return {
        "id": pos.wid,
        "descriptor": f"P-{pos.pos_id:05d} {pos.title}",
        "positionId": f"P-{pos.pos_id:05d}",
        "jobProfile": _ref(ids.workday(view.seed, "profile", pos.job_id), pos.title),
        "supervisoryOrganization": _ref(org.wid, org.name),
        "isFilled": holder is not None,
        "availableForHire": holder is None,
        "worker": _ref(holder.wid, f"{holder.first} {holder.last}") if holder else None,
        "createdOn": iso_z(pos.created_ts),
        "lastUpdated": iso_z(pos.updated_ts),
    }


def _organisation(view: View, org: Organisation, orgs: dict[str, Organisation]) -> Record:
    w = view.world
    boss = w.employees[org.manager_eid - 100] if org.manager_eid else None
    parent = orgs.get(org.parent or "")
    return {
        "id": org.wid,
        "descriptor": org.name,
        "referenceId": org.code,
        "organizationType": _ref("ORG_TYPE_SUPERVISORY", "Supervisory"),
        "superiorOrganization": _ref(parent.wid, parent.name) if parent else None,
        "manager": _ref(boss.wid, f"{boss.first} {boss.last}") if boss else None,
        "staffingModel": "Position Management",
        "isActive": True,
        "lastUpdated": iso_z(_org_stamp(view)),
    }


def _org_stamp(view: View) -> int:
    """Organisations were last edited when the company was set up, before anyone's record changed."""
    return min(e.updated_ts for e in view.world.employees)


def project_workday(view: View) -> dict[str, ChangeSet]:
    w = view.world
    orgs = {o.code: o for o in w.organisations}
    workers = [_worker(view, e, orgs) for e in w.employees if view.changed(e.updated_ts)]
    positions = [_position(view, p, orgs) for p in w.positions if view.changed(p.updated_ts)]
    organisations = [_organisation(view, o, orgs) for o in w.organisations] if view.initial else []
    return {
        "employees": ChangeSet(workers),
        "positions": ChangeSet(positions),
        "organizations": ChangeSet(organisations),
    }


WORKDAY = SystemDef("workday", "saas", (WD_EMPLOYEES, WD_POSITIONS, WD_ORGANIZATIONS), project_workday)
