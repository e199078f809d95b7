#!/usr/bin/env python3
"""Generate N synthetic tickets for the saas-b2b example, as JSON Lines.

Deterministic for a given seed. Used for throughput benchmarks of
`routec route` and `routec bench`:

    python3 scripts/gen_tickets.py 100000 > /tmp/tickets.jsonl
    routec route examples/saas-b2b/policy.route /tmp/tickets.jsonl --stats > /dev/null
"""
import json
import random
import sys

SUBJECTS = [
    "Invoice INV-{n:06d} is wrong", "Charged twice this month", "Cannot log in", "The login page just spins forever",
    "API returns error 502", "How do I set up SSO with Okta?", "Feature request: dark mode", "Export to CSV fails",
    "Please add seats to our plan", "Our workspace is down", "We are not renewing", "Question about our contract",
    "Dashboard charts are empty", "Import of contacts stuck", "Refund for last month", "GDPR request for our data",
]
BODY_WORDS = (
    "hello team we noticed that since yesterday the dashboard shows nothing and our users are confused "
    "could you please have a look the invoice total does not match the number of seats we pay for "
    "we tried clearing the cache and logging in again but the page keeps loading the integration with "
    "salesforce stopped syncing after the last update thanks for your help best regards"
).split()
INTENTS = ["billing", "technical", "onboarding", "feature_request", "bug_report", "account"]
TIERS = ["free", "pro", "enterprise"]
CHANNELS = ["email", "chat", "web", "phone"]


def ticket(rng, i, body_bytes):
    words = []
    while sum(len(w) + 1 for w in words) < body_bytes:
        words.append(rng.choice(BODY_WORDS))
    t = {
        "id": f"G-{i:07d}",
        "subject": rng.choice(SUBJECTS).format(n=rng.randrange(10**6)),
        "body": " ".join(words),
        "channel": rng.choice(CHANNELS),
        "created_at": "2026-11-23T13:00:00Z",
        "ai_turns": rng.choice([0, 0, 0, 1, 2, 3]),
        "ai_resolved": rng.random() < 0.2,
        "customer": {
            "name": f"Customer {i % 997}",
            "email": f"c{i % 997}@example.com",
            "tier": rng.choice(TIERS),
            "vip": rng.random() < 0.03,
            "health": round(rng.uniform(0, 100), 1),
            "seats": rng.randrange(1, 500),
            "at_risk": False,
        },
    }
    if rng.random() < 0.5:
        t["page"] = rng.choice(["/settings/billing", "/dashboard", "/settings/sso", "/import"])
    if rng.random() < 0.9:
        t["signals"] = {
            "intent": rng.choice(INTENTS),
            "confidence": round(rng.uniform(0.3, 1.0), 2),
            "sentiment": round(rng.uniform(-1, 1), 2),
            "language": "en",
        }
    return t


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 100000
    body_bytes = int(sys.argv[2]) if len(sys.argv) > 2 else 700
    rng = random.Random(42)
    out = sys.stdout
    for i in range(n):
        out.write(json.dumps(ticket(rng, i, body_bytes)) + "\n")


if __name__ == "__main__":
    main()
