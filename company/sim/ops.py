"""Operations: the product catalogue, stock per warehouse, purchase orders, and warehouse sensors."""

from __future__ import annotations

import random

from company import ids
from company.catalog import CATEGORIES, CATEGORY_VENDORS, PRICE_BANDS, WAREHOUSES
from company.clock import DAY, HOUR, sim_date
from company.model import Device, DeviceStatus, Movement, Product, PurchaseOrder, Reading, Stock
from company.sim import ledger
from company.sim.core import Sim

WAREHOUSE_ENTITY = {code: entity for code, _, _, _, entity in WAREHOUSES}


def setup(sim: Sim) -> None:
    rng = sim.rng("ops-setup", -1)
    cats = sorted(CATEGORIES)
    for i in range(max(10, round(150 * sim.scale))):
        _new_product(sim, rng, cats[i % len(cats)])
    for product in sim.world.products:
        for code, *_ in WAREHOUSES:
            on_hand = rng.randint(60, 260) if rng.random() > 0.08 else rng.randint(10, 25)
            sim.world.stock[(product.product_id, code)] = Stock(
                product.product_id, code, on_hand, 0, rng.randint(20, 40), product.created_ts
            )
    for code, *_ in WAREHOUSES:
        for j in range(max(1, round(4 * sim.scale))):
            kind = "cold_room" if j % 2 == 0 else "ambient"
            dev_id = f"{code.lower()}-{kind.replace('_', '')}-{j + 1:03d}"
            sim.world.devices.append(Device(dev_id, code, kind, "2.3.1", sim.t0(-300)))


def _new_product(sim: Sim, rng: random.Random, category: str) -> Product:
    pid = sim.next_id("product")
    adjectives, nouns = CATEGORIES[category]
    lo, hi = PRICE_BANDS[category]
    price = (rng.randint(lo, hi) // 100) * 100 + 99
    created = sim.t0(-rng.randint(30, 900)) + rng.randint(0, DAY - 1)
    product = Product(
        product_id=pid,
        sku=f"{category[:3].upper()}-{pid:05d}",
        name=f"{rng.choice(adjectives)} {rng.choice(nouns)} {pid:03d}",
        category=category,
        price=price,
        cost=round(price * rng.uniform(0.35, 0.6)),
        vendor_id=rng.choice(CATEGORY_VENDORS[category]),
        created_ts=created,
        updated_ts=created,
        shop_id=ids.shopify(2, pid),
        variant_id=ids.shopify(3, pid),
        weight_grams=rng.randint(100, 4_000),
    )
    sim.world.products.append(product)
    return product


def move(sim: Sim, product_id: int, warehouse: str, kind: str, qty: int, ref: str, ts: int) -> None:
    stock = sim.world.stock[(product_id, warehouse)]
    stock.on_hand += qty
    stock.updated_ts = max(stock.updated_ts, ts)
    cost = sim.world.products[product_id - 1].cost
    mid = sim.next_id("movement", 7_000_001)
    sim.world.movements.append(Movement(mid, product_id, warehouse, kind, qty, cost, ref, ts, stock.on_hand))
    if kind == "SHIP":
        sim.shipped_cost[WAREHOUSE_ENTITY[warehouse]] += cost * -qty


def reserve(sim: Sim, product_id: int, warehouse: str, qty: int, ts: int) -> None:
    stock = sim.world.stock[(product_id, warehouse)]
    stock.reserved += qty
    stock.updated_ts = max(stock.updated_ts, ts)


def step(sim: Sim) -> None:
    rng = sim.rng("ops")
    _replenish(sim, rng)
    _cycle_counts(sim, rng)
    _price_changes(sim, rng)
    _discontinue(sim, rng)
    _sensors(sim)


def _replenish(sim: Sim, rng: random.Random) -> None:
    open_po = {(po.product_id, po.warehouse) for po in sim.world.purchase_orders if po.received_ts is None}
    for key, stock in sim.world.stock.items():
        if stock.deleted_ts or key in open_po or stock.on_hand - stock.reserved > stock.reorder_point:
            continue
        product = sim.world.products[key[0] - 1]
        if not product.active:
            continue
        n = sim.next_id("po", 4_500_001)
        lead = rng.randint(3, 7)
        ts = sim.at(rng, 9, 17)
        po = PurchaseOrder(
            n,
            f"PO-{n}",
            product.vendor_id,
            product.product_id,
            key[1],
            rng.randint(10, 30) * 10,
            product.cost,
            ts,
            sim_date(sim.start, sim.day + lead),
            updated_ts=ts,
        )
        sim.world.purchase_orders.append(po)
        sim.later(sim.day + lead, lambda po=po: _receive(sim, po))


def _receive(sim: Sim, po: PurchaseOrder) -> None:
    ts = sim.at(sim.rng(f"receive-{po.po_id}"), 7, 16)
    po.received_ts = po.updated_ts = ts
    move(sim, po.product_id, po.warehouse, "RECEIPT", po.quantity, po.number, ts)
    entity = WAREHOUSE_ENTITY[po.warehouse]
    amount = ledger.to_entity(po.quantity * po.unit_cost, "USD", entity)
    cur = "USD" if entity == "US" else "EUR"
    ledger.post(sim, ts, entity, "receipt", cur, po.number, f"Goods receipt {po.number}", "1200", "2000", amount)


def _cycle_counts(sim: Sim, rng: random.Random) -> None:
    keys = [k for k, s in sim.world.stock.items() if not s.deleted_ts]
    for _ in range(max(1, round(sim.n(3)))):
        product_id, warehouse = rng.choice(keys)
        delta = rng.choice((-3, -2, -1, 1, 2))
        move(sim, product_id, warehouse, "ADJUST", delta, f"CC-{sim.day:04d}", sim.at(rng, 5, 7))


def _price_changes(sim: Sim, rng: random.Random) -> None:
    for product in sim.world.products:
        if product.active and rng.random() < 0.004:
            product.updated_ts = sim.at(rng, 6, 10)
            product.price_changes.append((product.updated_ts, product.price))
            product.price = max(999, product.price + rng.choice((-1_000, -500, 500, 1_000)))


def _discontinue(sim: Sim, rng: random.Random) -> None:
    for product in sim.world.products:
        if product.active and rng.random() < 0.002:
            product.active = False
            product.updated_ts = sim.at(rng, 6, 10)
            sim.later(sim.day + 7, lambda p=product: _drop_stock_rows(sim, p))


def _drop_stock_rows(sim: Sim, product: Product) -> None:
    ts = sim.at(sim.rng(f"drop-{product.product_id}"), 2, 4)
    for code, *_ in WAREHOUSES:
        sim.world.stock[(product.product_id, code)].deleted_ts = ts


def _sensors(sim: Sim) -> None:
    """Readings every three hours; a device offline overnight delivers its buffer the next day."""
    for dev in sim.world.devices:
        rng = sim.rng(f"iot-{dev.device_id}")
        base = 3.5 if dev.kind == "cold_room" else 18.0
        late = rng.random() < 0.05
        for slot in range(8):
            ts = sim.t0() + slot * 3 * HOUR + rng.randint(0, 120)
            arrival = sim.day + 1 if late and slot >= 6 else sim.day
            temp = round(base + rng.gauss(0, 0.8) + (4.0 if rng.random() < 0.01 else 0.0), 2)
            humidity = round(rng.uniform(35, 60), 1)
            battery = round(max(5.0, 100.0 - (sim.day + 300) * 0.05 - rng.random()), 1)
            sim.world.readings.append(Reading(dev.device_id, ts, temp, humidity, battery, arrival))
        for slot in range(4):
            status = "online" if rng.random() > 0.03 else "offline"
            ts = sim.t0() + slot * 6 * HOUR + rng.randint(0, 300)
            fw = dev.firmware
            sim.world.statuses.append(DeviceStatus(dev.device_id, ts, status, rng.randint(-85, -40), fw, sim.day))
        if rng.random() < 0.01:
            dev.firmware = "2.4.0"
