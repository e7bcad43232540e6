"""Ad platforms: Google Ads API (GAQL searchStream rows, REST JSON) and the Facebook Marketing API."""

from __future__ import annotations

from collections import defaultdict

from company.clock import facebook, sim_date
from company.model import AdDay, Campaign
from company.projections.common import money_str
from company.spec import ChangeSet, Record, StreamDef, SystemDef, View

GOOGLE_CUSTOMER = "1234567890"
FB_ACCOUNT = "act_987654321012345"
GA_CAMPAIGNS = StreamDef(
    "campaigns", "jsonl", ("campaign.id", "segments.date"), "segments.date", "daily", "googleAds:searchStream campaign"
)
GA_AD_GROUPS = StreamDef(
    "ad_groups", "jsonl", ("adGroup.id", "segments.date"), "segments.date", "daily", "googleAds:searchStream ad_group"
)
FB_CAMPAIGNS = StreamDef("campaigns", "jsonl", ("id",), "updated_time", "daily", f"{FB_ACCOUNT}/campaigns")
FB_ADS = StreamDef("ads", "jsonl", ("ad_id", "date_start"), "date_start", "daily", f"{FB_ACCOUNT}/insights?level=ad")


def _metrics(imp: int, clicks: int, cost: int, conv: int, value: int) -> Record:
    """Google Ads JSON spells int64 as strings and doubles as numbers; money is in micros."""
    return {
        "impressions": str(imp),
        "clicks": str(clicks),
        "costMicros": str(cost * 10_000),
        "conversions": float(conv),
        "conversionsValue": round(value / 100, 2),
        "ctr": round(clicks / imp, 6) if imp else 0.0,
        "averageCpc": round(cost * 10_000 / clicks, 1) if clicks else 0.0,
    }


def _campaign_resource(camp: Campaign) -> str:
    return f"customers/{GOOGLE_CUSTOMER}/campaigns/{camp.ext_id}"


def _google_rows(view: View) -> tuple[list[Record], list[Record]]:
    w = view.world
    totals: dict[tuple[int, int], list[int]] = defaultdict(lambda: [0, 0, 0, 0, 0])
    groups = []
    for a in w.ad_days:
        camp = w.campaigns[a.camp_id - 1]
        if camp.platform != "google" or not view.arrived(a.day):
            continue
        cell = totals[(camp.camp_id, a.day)]
        for i, v in enumerate((a.impressions, a.clicks, a.cost, a.conversions, a.conversion_value)):
            cell[i] += v
        groups.append(_ad_group_row(view, camp, a))
    campaigns = [_campaign_row(view, w.campaigns[cid - 1], day, vals) for (cid, day), vals in totals.items()]
    return campaigns, groups


def _campaign_row(view: View, camp: Campaign, day: int, vals: list[int]) -> Record:
    return {
        "campaign": {
            "resourceName": _campaign_resource(camp),
            "id": str(camp.ext_id),
            "name": camp.name,
            "status": camp.status,
            "advertisingChannelType": camp.channel,
            "biddingStrategyType": "MAXIMIZE_CONVERSION_VALUE",
        },
        "campaignBudget": {"amountMicros": str(camp.daily_budget * 10_000)},
        "metrics": _metrics(*vals),
        "segments": {"date": sim_date(view.world.start, day).isoformat()},
    }


def _ad_group_row(view: View, camp: Campaign, a: AdDay) -> Record:
    unit = view.world.units[a.unit_id - 1]
    return {
        "adGroup": {
            "resourceName": f"customers/{GOOGLE_CUSTOMER}/adGroups/{unit.ext_id}",
            "id": str(unit.ext_id),
            "name": unit.name,
            "status": "ENABLED",
            "type": "SEARCH_STANDARD" if camp.channel == "SEARCH" else "SHOPPING_PRODUCT_ADS",
            "campaign": _campaign_resource(camp),
        },
        "metrics": _metrics(a.impressions, a.clicks, a.cost, a.conversions, a.conversion_value),
        "segments": {"date": sim_date(view.world.start, a.day).isoformat()},
    }


def project_google_ads(view: View) -> dict[str, ChangeSet]:
    campaigns, groups = _google_rows(view)
    return {"campaigns": ChangeSet(campaigns), "ad_groups": ChangeSet(groups)}


GOOGLE_ADS = SystemDef("google_ads", "saas", (GA_CAMPAIGNS, GA_AD_GROUPS), project_google_ads)


def _fb_campaign(camp: Campaign) -> Record:
    status = "ACTIVE" if camp.status == "ENABLED" else "PAUSED"
    return {
        "id": str(camp.ext_id),
        "account_id": FB_ACCOUNT.removeprefix("act_"),
        "name": camp.name,
        "objective": camp.objective,
        "status": status,
        "effective_status": status,
        "buying_type": "AUCTION",
        "daily_budget": str(camp.daily_budget),
        "special_ad_categories": [],
        "created_time": facebook(camp.created_ts),
        "start_time": facebook(camp.created_ts),
        "updated_time": facebook(camp.updated_ts),
    }


def _fb_insight(view: View, camp: Campaign, a: AdDay) -> Record:
    unit = view.world.units[a.unit_id - 1]
    day = sim_date(view.world.start, a.day).isoformat()
    reach = max(a.clicks, round(a.impressions * 0.87))
    actions = [{"action_type": "link_click", "value": str(a.clicks)}]
    values = []
    if a.conversions:
        actions.append({"action_type": "offsite_conversion.fb_pixel_purchase", "value": str(a.conversions)})
        values.append({"action_type": "offsite_conversion.fb_pixel_purchase", "value": money_str(a.conversion_value)})
    return {
        "account_id": FB_ACCOUNT.removeprefix("act_"),
        "account_currency": "USD",
        "campaign_id": str(camp.ext_id),
        "campaign_name": camp.name,
        "adset_id": str(camp.ext_id + 1),
        "adset_name": f"{camp.name} - Broad",
        "ad_id": str(unit.ext_id),
        "ad_name": unit.name,
        "date_start": day,
        "date_stop": day,
        "impressions": str(a.impressions),
        "reach": str(reach),
        "frequency": f"{a.impressions / reach:.6f}" if reach else "0",
        "clicks": str(a.clicks),
        "spend": money_str(a.cost),
        "cpc": f"{a.cost / 100 / a.clicks:.6f}" if a.clicks else None,
        "ctr": f"{100 * a.clicks / a.impressions:.6f}" if a.impressions else "0",
        "cpm": f"{1000 * a.cost / 100 / a.impressions:.6f}" if a.impressions else "0",
        "actions": actions,
        "action_values": values,
    }


def project_facebook_ads(view: View) -> dict[str, ChangeSet]:
    w = view.world
    camps = [_fb_campaign(c) for c in w.campaigns if c.platform == "facebook" and view.changed(c.updated_ts)]
    ads = [
        _fb_insight(view, w.campaigns[a.camp_id - 1], a)
        for a in w.ad_days
        if w.campaigns[a.camp_id - 1].platform == "facebook" and view.arrived(a.day)
    ]
    return {"campaigns": ChangeSet(camps), "ads": ChangeSet(ads)}


FACEBOOK_ADS = SystemDef("facebook_ads", "saas", (FB_CAMPAIGNS, FB_ADS), project_facebook_ads)
