"""Static reference data of the synthetic company: names, places, money, products, plans, ledger."""

from __future__ import annotations

from dataclasses import dataclass

COMPANY = "Northwind Outfitters"
COMPANY_DOMAIN = "northwind-outfitters.com"

FIRST_NAMES = [
    "James",
    "Mary",
    "Robert",
    "Patricia",
    "John",
    "Jennifer",
    "Michael",
    "Linda",
    "David",
    "Elizabeth",
    "William",
    "Barbara",
    "Richard",
    "Susan",
    "Joseph",
    "Jessica",
    "Thomas",
    "Sarah",
    "Charles",
    "Karen",
    "Daniel",
    "Lisa",
    "Matthew",
    "Nancy",
    "Anthony",
    "Betty",
    "Mark",
    "Sandra",
    "Paul",
    "Ashley",
    "Steven",
    "Emily",
    "Andrew",
    "Donna",
    "Joshua",
    "Michelle",
    "Kevin",
    "Carol",
    "Brian",
    "Amanda",
    "George",
    "Melissa",
    "Timothy",
    "Deborah",
    "Ronald",
    "Laura",
    "Jason",
    "Rebecca",
    "Ryan",
    "Sharon",
    "Jacob",
    "Cynthia",
    "Gary",
    "Kathleen",
    "Nicholas",
    "Amy",
    "Eric",
    "Angela",
    "Sophie",
    "Lukas",
    "Emma",
    "Noah",
    "Chloe",
    "Oliver",
    "Hannah",
    "Leon",
    "Mila",
    "Finn",
    "Camille",
    "Hugo",
    "Jade",
    "Lars",
    "Sanne",
    "Daan",
    "Priya",
    "Arjun",
    "Mei",
    "Wei",
    "Yuki",
    "Hiro",
    "Ana",
    "Lucas",
    "Sofia",
    "Mateo",
]
LAST_NAMES = [
    "Smith",
    "Johnson",
    "Williams",
    "Brown",
    "Jones",
    "Garcia",
    "Miller",
    "Davis",
    "Rodriguez",
    "Martinez",
    "Hernandez",
    "Lopez",
    "Gonzalez",
    "Wilson",
    "Anderson",
    "Thomas",
    "Taylor",
    "Moore",
    "Jackson",
    "Martin",
    "Lee",
    "Perez",
    "Thompson",
    "White",
    "Harris",
    "Sanchez",
    "Clark",
    "Ramirez",
    "Lewis",
    "Robinson",
    "Walker",
    "Young",
    "Allen",
    "King",
    "Wright",
    "Scott",
    "Torres",
    "Nguyen",
    "Hill",
    "Flores",
    "Green",
    "Adams",
    "Nelson",
    "Baker",
    "Hall",
    "Rivera",
    "Campbell",
    "Mitchell",
    "Carter",
    "Roberts",
    "Muller",
    "Schmidt",
    "Schneider",
    "Fischer",
    "Weber",
    "Meyer",
    "Dubois",
    "Durand",
    "Lefevre",
    "Moreau",
    "Laurent",
    "Jansen",
    "DeVries",
    "Bakker",
    "Visser",
    "Patel",
    "Shah",
    "Chen",
    "Wang",
    "Tanaka",
    "Sato",
    "OBrien",
    "Murphy",
    "Kelly",
]

PRIMARY_EMAIL_DOMAINS = ("gmail.com", "yahoo.com", "outlook.com", "icloud.com", "proton.me")
# Disjoint from the primary domains, so an alternate address can never equal anyone's primary one.
ALT_EMAIL_DOMAINS = ("hey.com", "fastmail.com", "aol.com", "mail.com")


@dataclass(frozen=True, slots=True)
class Country:
    code: str
    name: str
    currency: str
    entity: str  # the legal entity that books its sales: "US" (NetSuite/QuickBooks) or "EU" (SAP)
    weight: float
    phone_prefix: str
    cities: tuple[tuple[str, str], ...]  # (city, region)


COUNTRIES = (
    Country(
        "US",
        "United States",
        "USD",
        "US",
        0.6,
        "+1",
        (("New York", "NY"), ("Austin", "TX"), ("Seattle", "WA"), ("Denver", "CO"), ("Chicago", "IL")),
    ),
    Country("CA", "Canada", "CAD", "US", 0.08, "+1", (("Toronto", "ON"), ("Vancouver", "BC"))),
    Country("GB", "United Kingdom", "GBP", "EU", 0.12, "+44", (("London", "ENG"), ("Manchester", "ENG"))),
    Country("DE", "Germany", "EUR", "EU", 0.08, "+49", (("Berlin", "BE"), ("Munich", "BY"))),
    Country("FR", "France", "EUR", "EU", 0.07, "+33", (("Paris", "IDF"), ("Lyon", "ARA"))),
    Country("NL", "Netherlands", "EUR", "EU", 0.05, "+31", (("Amsterdam", "NH"), ("Utrecht", "UT"))),
)
COUNTRY_BY_CODE = {c.code: c for c in COUNTRIES}

# Fixed rates (USD per unit) so revenue in USD has one right answer; published in the ground truth.
FX_TO_USD = {"USD": 1.0, "CAD": 0.74, "GBP": 1.27, "EUR": 1.08}

CATEGORIES = {
    "Apparel": (("Classic", "Merino", "Trail", "Everyday", "Alpine"), ("Tee", "Hoodie", "Jacket", "Beanie")),
    "Footwear": (("Summit", "Urban", "Ridge", "Coastal"), ("Hiker", "Runner", "Boot", "Sandal")),
    "Outdoor": (("Basecamp", "Ultralight", "Nomad", "Expedition"), ("Tent", "Backpack", "Sleeping Bag")),
    "Home": (("Cabin", "Lakeside", "Fireside", "Pine"), ("Blanket", "Mug", "Lantern", "Candle")),
    "Electronics": (("Solar", "Trail", "Pocket"), ("Power Bank", "Headlamp", "Speaker", "GPS Tracker")),
}
PRICE_BANDS = {  # USD cents: (low, high)
    "Apparel": (1900, 14900),
    "Footwear": (5900, 19900),
    "Outdoor": (3900, 44900),
    "Home": (1200, 8900),
    "Electronics": (2900, 24900),
}

VENDORS = (
    ("V1001", "Cascade Textiles Ltd"),
    ("V1002", "Alpine Footwear GmbH"),
    ("V1003", "Summit Gear Manufacturing"),
    ("V1004", "Hearth & Home Supply Co"),
    ("V1005", "Voltline Electronics"),
    ("V1006", "Pacific Rim Sourcing"),
)
CATEGORY_VENDORS = {
    "Apparel": ("V1001", "V1006"),
    "Footwear": ("V1002",),
    "Outdoor": ("V1003", "V1006"),
    "Home": ("V1004",),
    "Electronics": ("V1005",),
}

# (code, name, country, time zone, entity)
WAREHOUSES = (
    ("WH-EAST", "Newark Fulfillment Center", "US", "America/New_York", "US"),
    ("WH-WEST", "Reno Fulfillment Center", "US", "America/Los_Angeles", "US"),
    ("WH-EU", "Venlo Fulfillment Center", "NL", "Europe/Amsterdam", "EU"),
)


@dataclass(frozen=True, slots=True)
class Plan:
    code: str
    name: str
    unit_amount: int  # USD cents per month per seat
    weight: float


PLANS = (
    Plan("basic", "Trail Club Basic", 999, 0.6),
    Plan("pro", "Trail Club Pro", 2900, 0.4),
    Plan("team", "Trail Club Team", 1500, 0.0),  # sold per seat through the B2B sales team only
)
PLAN_BY_CODE = {p.code: p for p in PLANS}

# Chart of accounts: number -> (name, type)
ACCOUNTS = {
    "1000": ("Cash - Operating", "Asset"),
    "1010": ("Stripe Clearing", "Asset"),
    "1200": ("Inventory", "Asset"),
    "2000": ("Accounts Payable", "Liability"),
    "4000": ("Product Revenue", "Revenue"),
    "4100": ("Subscription Revenue", "Revenue"),
    "4900": ("Sales Returns and Refunds", "Revenue"),
    "5000": ("Cost of Goods Sold", "Expense"),
    "6000": ("Salaries and Wages", "Expense"),
    "6100": ("Payment Processing Fees", "Expense"),
    "6200": ("Advertising", "Expense"),
}
ENTITY_CURRENCY = {"US": "USD", "EU": "EUR"}
SAP_COMPANY_CODE = {"US": "1000", "EU": "2000"}

# Workday supervisory organisations: (code, name, parent code, share of headcount)
ORGANISATIONS = (
    ("ORG-100", "Northwind Outfitters", None, 0.03),
    ("ORG-110", "Engineering", "ORG-100", 0.2),
    ("ORG-120", "Product", "ORG-100", 0.06),
    ("ORG-130", "Sales", "ORG-100", 0.12),
    ("ORG-140", "Marketing", "ORG-100", 0.08),
    ("ORG-150", "Customer Support", "ORG-100", 0.12),
    ("ORG-160", "Finance", "ORG-100", 0.06),
    ("ORG-170", "People", "ORG-100", 0.04),
    ("ORG-180", "Fulfillment Operations", "ORG-100", 0.24),
    ("ORG-190", "Data & Analytics", "ORG-110", 0.05),
)
# Oracle HR style job ids and annual salary bands (USD) per organisation.
JOBS = {
    "ORG-100": (
        ("AD_PRES", "Chief Executive Officer", 240_000, 320_000),
        ("AD_VP", "Vice President", 180_000, 240_000),
    ),
    "ORG-110": (
        ("IT_PROG", "Software Engineer", 110_000, 180_000),
        ("IT_MGR", "Engineering Manager", 160_000, 210_000),
    ),
    "ORG-120": (
        ("PR_MGR", "Product Manager", 120_000, 170_000),
        ("PR_DES", "Product Designer", 95_000, 140_000),
    ),
    "ORG-130": (
        ("SA_REP", "Account Executive", 70_000, 110_000),
        ("SA_MAN", "Sales Manager", 120_000, 160_000),
    ),
    "ORG-140": (
        ("MK_REP", "Marketing Specialist", 65_000, 95_000),
        ("MK_MAN", "Marketing Manager", 110_000, 150_000),
    ),
    "ORG-150": (
        ("CS_REP", "Support Associate", 42_000, 60_000),
        ("CS_MAN", "Support Manager", 75_000, 95_000),
    ),
    "ORG-160": (("FI_ACCOUNT", "Accountant", 70_000, 100_000), ("FI_MGR", "Controller", 130_000, 170_000)),
    "ORG-170": (("HR_REP", "People Partner", 65_000, 95_000), ("HR_MGR", "Head of People", 130_000, 170_000)),
    "ORG-180": (
        ("ST_CLERK", "Warehouse Associate", 36_000, 48_000),
        ("ST_MAN", "Warehouse Supervisor", 55_000, 75_000),
    ),
    "ORG-190": (("DA_ENG", "Data Engineer", 115_000, 170_000), ("DA_ANL", "Data Analyst", 85_000, 125_000)),
}

INDUSTRIES = ("Technology", "Retail", "Hospitality", "Education", "Healthcare", "Manufacturing", "Media")
COMPANY_WORDS = [
    "Acme",
    "Globex",
    "Initech",
    "Umbrella",
    "Stark",
    "Wayne",
    "Cyberdyne",
    "Hooli",
    "Vandelay",
    "Soylent",
    "Tyrell",
    "Wonka",
    "Gringotts",
    "Oscorp",
    "Pied",
    "Piper",
    "Massive",
    "Dynamic",
    "Aperture",
    "Monarch",
    "Blue",
    "Sun",
    "Sterling",
    "Prestige",
    "Duff",
    "Nakatomi",
]
COMPANY_SUFFIXES = ("Inc", "LLC", "Group", "Labs", "Partners", "GmbH", "Ltd")

SF_STAGES = ("Prospecting", "Qualification", "Needs Analysis", "Proposal/Price Quote", "Negotiation/Review")
HS_STAGES = {  # Salesforce stage -> HubSpot default pipeline stage id
    "Prospecting": "appointmentscheduled",
    "Qualification": "qualifiedtobuy",
    "Needs Analysis": "presentationscheduled",
    "Proposal/Price Quote": "decisionmakerboughtin",
    "Negotiation/Review": "contractsent",
    "Closed Won": "closedwon",
    "Closed Lost": "closedlost",
}
LEAD_SOURCES = ("Web", "Phone Inquiry", "Partner Referral", "Advertisement", "Trade Show")

PARTNERS = (("PRT-01", "TrailMarket Marketplace", 0.12), ("PRT-02", "OutdoorDeals Affiliate Network", 0.08))

# Weekday demand multipliers, Monday first.
WEEKDAY_FACTOR = (0.95, 0.93, 0.97, 1.0, 1.08, 1.12, 1.02)
