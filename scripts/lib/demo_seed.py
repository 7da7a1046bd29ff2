#!/usr/bin/env python3
"""Fills the demo business with a living gym: staff in every built-in role, custom fields,
a published point rule and tier ladder, a few hundred members with Chinese names, three
months of purchases (some refunded), today's check-ins and some redemptions.

Everything goes through the public API, as a shop's own systems would, so the data is what
the product itself makes of it. Runs once: a business that already has members is left as
it is. Deterministic (a fixed random seed). Standard library only.

    demo_seed.py BASE_URL SLUG OWNER_EMAIL OWNER_PASSWORD [--members N]
"""
import argparse
import datetime as dt
import json
import random
import sys
import time
import urllib.error
import urllib.request

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程苏魏吕丁任沈"
GIVEN = [
    "伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛", "明",
    "超", "秀英", "华", "慧", "巧", "美玲", "婷", "雪", "琳", "晨", "宇", "浩然", "子轩", "梓涵",
    "一诺", "欣怡", "思远", "雨桐", "嘉怡", "俊杰", "文博", "佳琪", "晓东", "海燕",
]
TAGS = ["VIP", "早鸟", "私教", "团课", "老带新", "企业客户"]
ITEMS = [
    ("PT-1", "私教课", "私教", 30000),
    ("GC-1", "团课次卡", "团课", 6000),
    ("SH-1", "蛋白粉", "营养品", 29800),
    ("DR-1", "运动饮料", "饮品", 800),
    ("TW-1", "毛巾", "用品", 3900),
    ("YG-1", "瑜伽课", "团课", 8800),
]
STORES = ["徐汇店", "静安店", "浦东店"]


class Api:
    def __init__(self, base):
        self.base = base.rstrip("/") + "/api/v1"
        self.token = None

    def call(self, method, path, body=None, ok=(200, 201)):
        data = None if body is None else json.dumps(body).encode()
        for _ in range(20):
            req = urllib.request.Request(self.base + path, data=data, method=method)
            req.add_header("content-type", "application/json")
            if self.token:
                req.add_header("authorization", f"Bearer {self.token}")
            try:
                with urllib.request.urlopen(req, timeout=60) as r:
                    status, text = r.status, r.read().decode()
            except urllib.error.HTTPError as e:
                status, text = e.code, e.read().decode()
                if status == 429:
                    # The plan's request rate: wait as told, then the same request again
                    # (every write here is idempotent).
                    time.sleep(min(30, int(e.headers.get("retry-after") or 5)))
                    continue
            break
        if status not in ok:
            raise SystemExit(f"demo data: {method} {path} answered {status}: {text[:400]}")
        return json.loads(text) if text else None


def labels(zh, en):
    return {"zh-CN": zh, "en": en}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("base")
    ap.add_argument("slug")
    ap.add_argument("email")
    ap.add_argument("password")
    ap.add_argument("--members", type=int, default=300)
    a = ap.parse_args()
    rnd = random.Random(2026)
    api = Api(a.base)
    api.token = api.call(
        "POST", "/auth/login", {"tenant": a.slug, "email": a.email, "password": a.password}
    )["token"]
    if api.call("POST", "/members/search", {"limit": 1})["items"]:
        print("demo data: the demo business already has members; left as it is")
        return

    # The fields a gym keeps.
    api.call("POST", "/fields/versions", {"fields": [
        {"key": "membership", "type": "single_select", "label": labels("会籍类型", "Membership"),
         "options": [
             {"value": "annual", "label": labels("年卡", "Annual")},
             {"value": "quarterly", "label": labels("季卡", "Quarterly")},
             {"value": "monthly", "label": labels("月卡", "Monthly")},
             {"value": "pass", "label": labels("次卡", "Visit pass")},
         ]},
        {"key": "membership_expires", "type": "date", "label": labels("会籍到期", "Membership expires")},
        {"key": "goals", "type": "multi_select", "label": labels("健身目标", "Goals"),
         "member_editable": True,
         "options": [
             {"value": "fat_loss", "label": labels("减脂", "Fat loss")},
             {"value": "muscle", "label": labels("增肌", "Muscle")},
             {"value": "shape", "label": labels("塑形", "Shape")},
             {"value": "rehab", "label": labels("康复", "Rehab")},
         ]},
        {"key": "locker", "type": "boolean", "label": labels("租用储物柜", "Locker")},
    ]}, ok=(200, 201))

    # 1 point per yuan, 200 on the first purchase, the tier's multiplier.
    api.call("POST", "/rules/purchase/publish", {"template": {
        "kind": "purchase",
        "base": {"points": 1, "per_amount": 100, "rounding": "floor", "label": "每消费 ¥1 得 1 积分"},
        "use_tier_benefit": True,
        "tier_benefit_label": "会员等级加成",
        "first_purchase_bonus": {"points": 200, "label": "新客首单奖励"},
    }, "note": "开业积分规则"})

    def tier(code, zh, en, threshold, multiplier, discount, color):
        return {"code": code, "name": labels(zh, en), "threshold": threshold, "color": color,
                "benefits": {"multiplier": multiplier, "discount_percent": discount}}

    api.call("POST", "/tiers/publish", {"ladder": {
        "metric": "spend", "window": {"kind": "rolling", "days": 365},
        "retention_days": 30, "demotion": "one_rung",
        "tiers": [
            tier("regular", "普通会员", "Regular", 0, 1000, 0, "#8c8c8c"),
            tier("silver", "银卡会员", "Silver", 100000, 1100, 2, "#a0a0a0"),
            tier("gold", "金卡会员", "Gold", 300000, 1250, 5, "#d4a017"),
            tier("diamond", "钻石会员", "Diamond", 800000, 1500, 12, "#5b8ff9"),
        ],
    }, "note": "会员等级体系"})

    # Staff in each built-in role.
    for email, name, roles in [
        ("manager@demo.patron.local", "王店长", ["manager"]),
        ("desk1@demo.patron.local", "前台小李", ["front_desk"]),
        ("desk2@demo.patron.local", "前台小张", ["front_desk"]),
        ("marketing@demo.patron.local", "市场部陈小姐", ["marketer"]),
    ]:
        api.call("POST", "/staff", {"email": email, "name": name,
                                    "password": "patron-demo-2026", "roles": roles}, ok=(201, 409))

    today = dt.date.today()
    now = dt.datetime.now(dt.timezone.utc)
    phones = set()
    members = []
    for i in range(a.members):
        name = rnd.choice(SURNAMES) + rnd.choice(GIVEN)
        while True:
            phone = f"13{rnd.choice('6789')}{rnd.randrange(10**8):08d}"
            if phone not in phones:
                phones.add(phone)
                break
        # A few birthdays this week, for the counter's reminders.
        if i % 40 == 0:
            bday = today.replace(year=1990 + i % 15) + dt.timedelta(days=i % 5)
        else:
            bday = dt.date(rnd.randint(1968, 2005), rnd.randint(1, 12), rnd.randint(1, 28))
        joined = today - dt.timedelta(days=rnd.randint(0, 420))
        plan = rnd.choice(["annual", "annual", "quarterly", "monthly", "pass"])
        length = {"annual": 365, "quarterly": 91, "monthly": 30, "pass": 180}[plan]
        custom = {
            "membership": plan,
            "membership_expires": (joined + dt.timedelta(days=length)).isoformat(),
            "goals": rnd.sample(["fat_loss", "muscle", "shape", "rehab"], rnd.randint(1, 2)),
            "locker": rnd.random() < 0.3,
        }
        m = api.call("POST", "/members", {
            "name": name, "phone": phone, "gender": rnd.choice(["female", "male"]),
            "birthday": bday.isoformat(), "join_date": joined.isoformat(),
            "home_store": rnd.choice(STORES),
            "tags": rnd.sample(TAGS, rnd.randint(0, 2)), "custom": custom,
        })
        members.append(m["id"])

    # Three months of purchases, oldest first (tiers move as they would have).
    purchases = []
    for mid in members:
        if rnd.random() < 0.15:
            continue
        for _ in range(rnd.randint(1, 12)):
            at = now - dt.timedelta(days=rnd.uniform(0, 90), minutes=rnd.randint(0, 600))
            purchases.append((at, mid))
    purchases.sort()
    recorded = []
    for n, (at, mid) in enumerate(purchases):
        lines = []
        for sku, item, cat, price in rnd.sample(ITEMS, rnd.randint(1, 2)):
            qty = rnd.randint(1, 3)
            lines.append({"sku": sku, "name": item, "category": cat, "quantity": qty,
                          "unit_price": price})
        amount = sum(x["quantity"] * x["unit_price"] for x in lines)
        p = api.call("POST", "/purchases", {
            "external_id": f"demo-{n:05d}", "member_id": mid, "amount": amount,
            "items": lines, "store": rnd.choice(STORES), "occurred_at": at.isoformat(),
        })
        recorded.append((p["purchase_id"], amount))
    # Some refunds: a part of a purchase given back.
    for n, (pid, amount) in enumerate(rnd.sample(recorded, min(8, len(recorded)))):
        api.call("POST", "/refunds", {"external_id": f"demo-refund-{n}", "purchase_id": pid,
                                      "amount": max(100, amount // 2)})
    # Today's check-ins (a plan without check-ins answers 402: then there are none).
    for mid in rnd.sample(members, min(30, len(members))):
        r = api.call("POST", f"/members/{mid}/check-ins", None, ok=(200, 201, 402, 422))
        if r and r.get("code") == "feature_not_in_plan":
            break
    # Rewards taken for points.
    redeemed = 0
    for n, mid in enumerate(members):
        if redeemed >= 20:
            break
        bal = api.call("GET", f"/members/{mid}/points")["balance"]
        if bal >= 800:
            api.call("POST", f"/members/{mid}/redemptions", {
                "idempotency_key": f"demo-redeem-{n}", "points": 500, "reward": "兑换运动毛巾"})
            redeemed += 1
    print(f"demo data: {len(members)} members, {len(recorded)} purchases, "
          f"{redeemed} redemptions, 4 staff")


if __name__ == "__main__":
    sys.exit(main())
