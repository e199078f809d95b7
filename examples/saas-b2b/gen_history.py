#!/usr/bin/env python3
"""Generate examples/saas-b2b/history.csv: a labelled ticket history for the
SaaS B2B example (a fictional analytics product, "Acme Insights").

Deterministic: the same seed always writes the same file. Regenerate with

    python3 examples/saas-b2b/gen_history.py            # writes history.csv beside this script
    routec train examples/saas-b2b/history.csv --text subject,body --label intent \
        --features page,customer.tier --out examples/saas-b2b/models/intent.model \
        --target-precision 0.9 --policy-path models/intent.model

Intents: billing, technical, onboarding, feature_request, bug_report, account.
Login and access problems ("I can't get into my account", "the login page just
spins forever") are `account`, consistently: they go to the team that can
reset credentials and unlock users. Outages, slowness, integrations and API
errors that are not about signing in are `technical`; reproducible defects
with steps are `bug_report`.

Tickets are built from per-intent subjects and bodies with slots, plus
openers, closers, occasional typos, a share of German tickets, and the page
the user was on (correlated with the intent, but noisy).

Each ticket also carries what happened to it in the helpdesk (for `routec
audit` and `routec replay`): `created_at` (13 weeks from Monday 2026-08-31, busier on
weekday afternoons in New York), the customer's name, e-mail and seats, the
group it was first assigned to and the one that resolved it (humans misroute
about one ticket in six, more often for look-alike intents), the number of
reassignments, and the times of first assignment, first response and
resolution. These columns come from a second random stream, so the first 720
tickets' text, labels and features are those the shipped model was trained
on; the rows after them continue the first stream.
"""

import csv
import datetime
import os
import random

SEED = 20240605
N_TICKETS = 3000
OPS_SEED = 20261201

PRODUCTS = ["dashboard", "report builder", "data connector", "Slack integration", "Salesforce sync",
            "CSV export", "alerting", "API", "mobile app", "embedded charts", "scheduled reports"]
PLANS = ["Starter", "Pro", "Business", "Enterprise"]
MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August",
          "September", "October", "November", "December"]
BROWSERS = ["Chrome", "Firefox", "Safari", "Edge"]

# Each intent: subjects, bodies (with {slots}), pages (weighted), German subjects/bodies.
INTENTS = {
    "billing": {
        "subjects": ["Question about my invoice", "Charged twice this month", "Refund request",
                     "Invoice {inv} is wrong", "Update credit card", "Billing question",
                     "VAT number missing on invoice", "Unexpected charge", "Downgrade and prorated refund",
                     "Payment failed", "Need a receipt for {month}", "Price increase?"],
        "bodies": [
            "We were charged twice for the {plan} plan in {month}. Please refund the duplicate payment.",
            "Our invoice {inv} shows {seats} seats but we only have {seats2} users. Can you correct it?",
            "How do I update the credit card on file? The old one expired and the payment failed.",
            "Could you add our VAT number {vat} to the last invoices? Finance needs it for the audit.",
            "We downgraded from {plan} to Starter mid-cycle, will we get a prorated refund?",
            "I see a charge of ${amount} on our statement that I don't recognise. What is it for?",
            "Please send a receipt for the {month} payment to accounting@example.com.",
            "Our subscription renewed even though we cancelled last month. We want our money back.",
            "Can we switch from monthly to annual billing and pay by bank transfer instead of card?",
            "The price on the renewal quote is higher than our contract says. Please check the billing.",
            "Payment keeps getting declined, our bank says nothing is blocked. Invoice {inv} is now overdue.",
            "Where can I download all invoices for the last year? The billing page only shows three.",
            "We were billed for {seats} seats after removing users, please fix the invoice and refund the difference.",
            "Is there a discount for non-profits? We'd like to move to the {plan} plan if the price works.",
        ],
        "pages": [("/settings/billing", 5), ("/billing/invoices", 4), ("/pricing", 1), ("/dashboard", 1), ("", 2)],
        "de_subjects": ["Frage zur Rechnung", "Doppelte Abbuchung", "Rückerstattung", "Rechnung {inv} falsch"],
        "de_bodies": [
            "Wir wurden im {month_de} zweimal für den {plan}-Tarif belastet. Bitte erstatten Sie die doppelte Zahlung.",
            "Auf der Rechnung {inv} stehen {seats} Lizenzen, wir haben aber nur {seats2} Nutzer. Bitte korrigieren.",
            "Wie ändere ich die hinterlegte Kreditkarte? Die Zahlung ist fehlgeschlagen.",
            "Bitte die Umsatzsteuer-ID {vat} auf den Rechnungen ergänzen, die Buchhaltung braucht das.",
        ],
    },
    "technical": {
        "subjects": ["Dashboard very slow", "{product} not syncing", "API returns 500", "Timeouts on reports",
                     "Data not updating", "Webhook not firing", "Integration stopped working",
                     "Connector error", "Service down?", "Rate limit errors", "SSO certificate question",
                     "Charts not loading"],
        "bodies": [
            "The {product} has not synced since yesterday. Last successful run was at {time}.",
            "Our API calls to /v2/reports return 500 errors since this morning. Request id {reqid}.",
            "Reports take more than two minutes to load for the whole team. Is there an outage?",
            "The webhook for new events stopped firing, nothing arrives at https://hooks.example.com/acme.",
            "We get 429 rate limit errors from the API even though we send fewer than 10 requests per second.",
            "The data connector to our Postgres warehouse fails with 'connection reset by peer'.",
            "Dashboards are extremely slow today, every chart spins for a minute before it renders.",
            "Is the service down? Several users in {city} cannot load any dashboard.",
            "The Salesforce sync shows an error: field mapping invalid for Opportunity.Amount.",
            "How do we configure the SAML certificate rotation for our SSO? The old cert expires next week.",
            "Scheduled reports did not go out this morning. The queue shows them as pending.",
            "Embedded charts on our intranet show a CORS error in the browser console.",
            "After the maintenance window the numbers on the revenue dashboard are stale, not updated since {time}.",
            "The Slack integration stopped posting alerts to #ops, reconnecting did not help.",
        ],
        "pages": [("/dashboard", 4), ("/integrations", 4), ("/api/docs", 2), ("/reports", 3), ("/status", 1), ("", 2)],
        "de_subjects": ["Dashboard sehr langsam", "Synchronisierung fehlgeschlagen", "API Fehler 500"],
        "de_bodies": [
            "Die Synchronisierung mit {product} läuft seit gestern nicht mehr. Letzter Lauf um {time}.",
            "Die API liefert seit heute Morgen Fehler 500. Anfrage-ID {reqid}.",
            "Alle Dashboards laden extrem langsam, jede Grafik braucht eine Minute.",
            "Der Webhook wird nicht mehr ausgelöst, es kommen keine Ereignisse an.",
        ],
    },
    "onboarding": {
        "subjects": ["Getting started", "How do I set up my first dashboard", "Importing our data",
                     "Onboarding call", "Setup help for new workspace", "Training for the team",
                     "Best way to connect our warehouse", "First steps", "Invite my colleagues",
                     "Migration from spreadsheets"],
        "bodies": [
            "We just signed up for the {plan} plan. What is the best way to get started with our first dashboard?",
            "Can we book an onboarding call for our team of {seats} next week?",
            "How do I import our historical data from CSV files? We have about three years of sales data.",
            "We are new to Acme Insights. Is there a checklist for setting up a workspace?",
            "Which data connector should we use for BigQuery, and is there a setup guide?",
            "I'd like to invite my colleagues and set up roles before we start. Where do I do that?",
            "Do you offer training sessions for new users? Half of the team has never used a BI tool.",
            "We are migrating from spreadsheets, how do we map our existing reports to dashboards?",
            "The setup wizard asks for a data source but we don't have one yet. Can we start with sample data?",
            "What should we configure first: connectors, users or dashboards? Any recommended order?",
            "Is there a getting started video for the report builder? We just created our workspace.",
        ],
        "pages": [("/onboarding/setup", 5), ("/onboarding/welcome", 3), ("/dashboard", 2), ("/integrations", 1), ("", 2)],
        "de_subjects": ["Erste Schritte", "Einrichtung des Arbeitsbereichs", "Schulung für das Team"],
        "de_bodies": [
            "Wir haben uns gerade für den {plan}-Tarif angemeldet. Wie richten wir das erste Dashboard ein?",
            "Können wir einen Einführungstermin für unser Team vereinbaren?",
            "Wie importieren wir unsere historischen Daten aus CSV-Dateien?",
        ],
    },
    "feature_request": {
        "subjects": ["Feature request: {feature}", "Suggestion", "Would love {feature}", "Idea for the report builder",
                     "Please add {feature}", "Roadmap question", "Missing feature", "Enhancement request"],
        "bodies": [
            "It would be great if you could add {feature}. We currently work around it with exports.",
            "Are there plans to support {feature}? It's the main thing our analysts ask for.",
            "Suggestion: let us {wish}. That would save our team hours every week.",
            "We'd love to see {feature} on the roadmap. Happy to join a beta.",
            "Please consider adding {feature}, competitors already offer it.",
            "Feature idea: {wish}. Right now we have to do it by hand.",
            "Is {feature} on your roadmap? If so, roughly when?",
            "Could you make it possible to {wish}? Not a bug, just a wish from our team.",
        ],
        "pages": [("/roadmap", 3), ("/reports", 2), ("/dashboard", 3), ("/settings/team", 1), ("", 3)],
        "de_subjects": ["Funktionswunsch", "Vorschlag für den Berichtsgenerator"],
        "de_bodies": [
            "Es wäre toll, wenn Sie {feature_de} ergänzen könnten.",
            "Gibt es Pläne für {feature_de}? Das wünschen sich unsere Analysten.",
        ],
    },
    "bug_report": {
        "subjects": ["Bug: {bug}", "Export broken", "Wrong totals in report", "Error when saving dashboard",
                     "Button does nothing", "Date filter bug", "Chart shows wrong numbers", "Crash in {product}",
                     "Bug report", "Reproducible error"],
        "bodies": [
            "Steps to reproduce: open a dashboard, set the date filter to last quarter, click export. Expected a CSV, got an empty file.",
            "The totals row in the report builder sums the wrong column when a column is hidden. Happens every time.",
            "When I save a dashboard with more than 20 charts I get 'Something went wrong' and the changes are lost.",
            "The 'Duplicate' button on a report does nothing in {browser}. Works in other browsers.",
            "Bug: {bug}. It started after the last release and we can reproduce it reliably.",
            "The date picker shows {month} twice and skips the next month in the filter dropdown.",
            "Pie chart percentages add up to 112 %. Looks like a rounding bug.",
            "The {product} crashes with an error message when the table has a column with emoji in its name 😕.",
            "Sorting by revenue in the table widget sorts alphabetically instead of numerically.",
            "Scheduled report emails show the chart legend in the wrong colours, the data is right.",
            "Renaming a dashboard reverts to the old name after refreshing the page. Reproducible in {browser}.",
        ],
        "pages": [("/reports", 4), ("/dashboard", 4), ("/reports/builder", 2), ("", 2)],
        "de_subjects": ["Fehler beim Export", "Falsche Summen im Bericht"],
        "de_bodies": [
            "Schritte: Dashboard öffnen, Datumsfilter auf letztes Quartal, Export klicken. Erwartet CSV, erhalten leere Datei.",
            "Die Summenzeile im Berichtsgenerator addiert die falsche Spalte, wenn eine Spalte ausgeblendet ist.",
        ],
    },
    "account": {
        "subjects": ["Can't log in", "Login problem", "Locked out", "Password reset not working",
                     "Two-factor authentication issue", "Change account owner", "Delete my account",
                     "Login page keeps loading", "Access denied", "Can't sign in", "Reset 2FA",
                     "Change email address", "SSO login loop"],
        "bodies": [
            "I can't get into my account.",
            "the login page just spins forever",
            "I can't get into my account since this morning, it says my password is wrong but I just reset it.",
            "The login page just spins forever after I enter my password, I never get to the dashboard.",
            "I'm locked out after too many attempts. Can you unlock {email}?",
            "The password reset email never arrives. I checked spam. My login is {email}.",
            "I lost my phone and can't pass two-factor authentication. How do I reset 2FA?",
            "We need to transfer the account ownership from {name} to me, {name} left the company.",
            "Please delete my user account and all personal data.",
            "Signing in with Google loops back to the sign-in page over and over.",
            "When I try to log in I get 'access denied' although my colleague invited me yesterday.",
            "How can I change the email address I use to sign in?",
            "Our SSO login redirects back to the login screen endlessly, nobody on the team can sign in.",
            "I cannot sign in anymore, the page keeps loading and nothing happens.",
            "Unable to access my account: the sign-in button spins and then times out.",
            "Can't log in. Password is definitely right. Account {email}.",
        ],
        "pages": [("/login", 6), ("/account/security", 3), ("/settings/profile", 2), ("", 2)],
        "de_subjects": ["Anmeldung nicht möglich", "Passwort zurücksetzen", "Konto gesperrt"],
        "de_bodies": [
            "Ich komme nicht mehr in mein Konto, das Passwort wird als falsch angezeigt.",
            "Die Anmeldeseite lädt endlos, ich komme nie zum Dashboard.",
            "Die E-Mail zum Zurücksetzen des Passworts kommt nicht an. Mein Login ist {email}.",
            "Mein Konto ist nach zu vielen Versuchen gesperrt. Bitte entsperren.",
        ],
    },
}

FEATURES = ["dark mode", "PDF export", "custom colour palettes", "a Teams integration", "row-level permissions",
            "drill-down on charts", "Excel export with formatting", "annotations on charts",
            "a public API for dashboards", "scheduled exports to S3", "German translations"]
FEATURES_DE = ["einen Dunkelmodus", "PDF-Export", "eine Teams-Integration", "Drilldown in Grafiken"]
WISHES = ["schedule reports per time zone", "pin filters across dashboards", "comment on a chart",
          "share a dashboard with a public link", "copy a chart between dashboards", "set alerts on any metric"]
BUGS = ["CSV export is empty", "filters reset on refresh", "tooltip shows NaN", "legend overlaps the chart",
        "save button greyed out", "timezone shifts dates by one day"]
NAMES = ["Anna Schmidt", "John Miller", "Priya Patel", "Lucas Martin", "Mia Wong", "Jonas Becker"]
CITIES = ["Berlin", "London", "Austin", "Munich", "Dublin", "Toronto"]
MONTHS_DE = ["Januar", "Februar", "März", "April", "Mai", "Juni", "Juli", "August", "September",
             "Oktober", "November", "Dezember"]

OPENERS = ["", "", "", "Hi, ", "Hello team, ", "Hi there! ", "Good morning, ", "Hey, ", "Dear support, "]
CLOSERS = ["", "", "", " Thanks!", " Thank you.", " Regards, {first}", " Cheers", " Thanks in advance.",
           " This is urgent for us.", " 🙏"]
DE_OPENERS = ["", "Hallo, ", "Guten Tag, ", "Hallo Team, "]
DE_CLOSERS = ["", " Danke!", " Viele Grüße", " Vielen Dank."]

CHANNELS = [("email", 5), ("web_form", 3), ("chat", 3), ("phone", 1)]
TIERS = [("free", 2), ("starter", 3), ("pro", 4), ("enterprise", 2)]
INTENT_WEIGHTS = {"billing": 3, "technical": 4, "onboarding": 2, "feature_request": 2, "bug_report": 3, "account": 3}


def weighted(rng, pairs):
    total = sum(weight for _, weight in pairs)
    pick = rng.uniform(0, total)
    for value, weight in pairs:
        pick -= weight
        if pick <= 0:
            return value
    return pairs[-1][0]


def typo(rng, text):
    """Swap two adjacent letters in one word, sometimes (people type fast)."""
    words = text.split(" ")
    candidates = [i for i, w in enumerate(words) if len(w) > 4 and w.isalpha()]
    if not candidates:
        return text
    i = rng.choice(candidates)
    w = words[i]
    j = rng.randrange(1, len(w) - 2)
    words[i] = w[:j] + w[j + 1] + w[j] + w[j + 2:]
    return " ".join(words)


def fill(rng, template):
    seats = rng.randrange(5, 80)
    first = rng.choice(NAMES).split()[0]
    return template.format(
        plan=rng.choice(PLANS), month=rng.choice(MONTHS), month_de=rng.choice(MONTHS_DE),
        inv=f"INV-{rng.randrange(1000, 9999)}", seats=seats, seats2=max(1, seats - rng.randrange(1, 5)),
        vat=f"DE{rng.randrange(100000000, 999999999)}", amount=f"{rng.randrange(19, 2000)}.00",
        product=rng.choice(PRODUCTS), time=f"{rng.randrange(0, 24):02d}:{rng.randrange(0, 60):02d}",
        reqid=f"req_{rng.randrange(16**8):08x}", city=rng.choice(CITIES), feature=rng.choice(FEATURES),
        feature_de=rng.choice(FEATURES_DE), wish=rng.choice(WISHES), bug=rng.choice(BUGS),
        browser=rng.choice(BROWSERS), email=f"{first.lower()}@{rng.choice(['acme', 'globex', 'initech'])}.com",
        name=rng.choice(NAMES), first=first,
    )


def ticket(rng, idx, intent):
    spec = INTENTS[intent]
    german = rng.random() < 0.12
    if german:
        subject = fill(rng, rng.choice(spec["de_subjects"]))
        body = rng.choice(DE_OPENERS) + fill(rng, rng.choice(spec["de_bodies"])) + rng.choice(DE_CLOSERS)
    else:
        subject = fill(rng, rng.choice(spec["subjects"]))
        body = rng.choice(OPENERS) + fill(rng, rng.choice(spec["bodies"])) + fill(rng, rng.choice(CLOSERS))
        if rng.random() < 0.15:
            body = typo(rng, body)
        if rng.random() < 0.1:
            body = body.lower()
    # Pages are correlated with the intent, but one ticket in five comes from anywhere.
    if rng.random() < 0.2:
        page = rng.choice(["/dashboard", "/reports", "/settings/billing", "/login", "/integrations", ""])
    else:
        page = weighted(rng, spec["pages"])
    return {
        "id": f"T-{10000 + idx}",
        "subject": subject,
        "body": body,
        "page": page,
        "channel": weighted(rng, CHANNELS),
        "customer.tier": weighted(rng, TIERS),
        "intent": intent,
    }


# What the humans did: the group that finally resolved each (intent, tier), in
# the policy's destination names. Free-tier technical and account tickets are
# worked by tech support here; the policy sends them to the AI assistant.
FINAL_GROUP = {
    "billing": {"enterprise": "account_management", "_": "billing"},
    "technical": {"enterprise": "tier2_tech", "_": "tech_support"},
    "bug_report": {"enterprise": "tier2_tech", "pro": "tier2_tech", "starter": "tier2_tech", "_": "tech_support"},
    "onboarding": {"enterprise": "solutions_engineering", "_": "onboarding"},
    "feature_request": {"_": "product_feedback"},
    "account": {"free": "tech_support", "_": "account_management"},
}
# Where a misrouted ticket lands first: look-alike intents are confused most.
WRONG_FIRST = {
    "billing": [("account_management", 3), ("tech_support", 1)],
    "technical": [("account_management", 3), ("tier2_tech", 2), ("onboarding", 1)],
    "bug_report": [("tech_support", 4), ("product_feedback", 2)],
    "onboarding": [("tech_support", 3), ("account_management", 1)],
    "feature_request": [("tech_support", 2), ("tier2_tech", 1)],
    "account": [("tech_support", 4), ("billing", 2)],
}
MISROUTE_RATE = {"billing": 0.08, "technical": 0.22, "bug_report": 0.2, "onboarding": 0.12,
                 "feature_request": 0.06, "account": 0.25}
START = datetime.datetime(2026, 8, 31, tzinfo=datetime.timezone.utc)  # a Monday
WEEKS = 13
# Arrivals per hour of the day in New York (UTC-4/-5): office hours dominate.
HOUR_WEIGHTS = [1, 1, 1, 1, 1, 2, 3, 5, 8, 10, 11, 10, 9, 10, 11, 10, 8, 6, 4, 3, 2, 2, 1, 1]
DAY_WEIGHTS = [10, 11, 10, 10, 8, 2, 2]  # Monday first
COMPANIES = ["Acme Corp", "Globex", "Initech", "Umbrella Health", "Northwind Traders", "Hooli", "Stark Logistics",
             "Wayne Analytics", "Soylent Foods", "Tyrell Systems", "Cyberdyne Labs", "Wonka Retail"]


def iso(moment):
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def outcome(ops, row):
    """The helpdesk's columns for one ticket, from the ops stream."""
    intent, tier = row["intent"], row["customer.tier"]
    week = ops.randrange(WEEKS)
    day = weighted(ops, list(enumerate(DAY_WEIGHTS)))
    hour = weighted(ops, list(enumerate(HOUR_WEIGHTS)))
    # New York is UTC-4 until 1 November 2026, UTC-5 after.
    local = START + datetime.timedelta(weeks=week, days=day, hours=hour, minutes=ops.randrange(60),
                                       seconds=ops.randrange(60))
    created = local + datetime.timedelta(hours=4 if local < datetime.datetime(
        2026, 11, 1, 6, tzinfo=datetime.timezone.utc) else 5)
    groups = FINAL_GROUP[intent]
    final = groups.get(tier, groups["_"])
    if ops.random() < MISROUTE_RATE[intent] * (1.3 if tier == "free" else 1.0):
        first = weighted(ops, [(g, w) for g, w in WRONG_FIRST[intent] if g != final] or [("tech_support", 1)])
        reassignments = 1 if ops.random() < 0.75 else ops.randrange(2, 4)
    else:
        first = final
        reassignments = 0 if ops.random() < 0.93 else 1  # moved between agents of the same group
    quick = tier == "enterprise"
    assigned = created + datetime.timedelta(minutes=ops.randrange(2, 45 if quick else 240))
    responded = assigned + datetime.timedelta(minutes=ops.randrange(5, 90 if quick else 600))
    work_hours = ops.expovariate(1 / (10 if quick else 20)) + 24 * reassignments * ops.random()
    resolved = responded + datetime.timedelta(hours=work_hours)
    company = ops.choice(COMPANIES)
    first_name = ops.choice(NAMES).split()[0].lower()
    domain = company.lower().replace(" ", "") + ".example"
    return {
        "created_at": iso(created),
        "customer.name": company,
        "customer.email": f"{first_name}@{domain}",
        "customer.seats": str({"free": 1, "starter": 5, "pro": 40, "enterprise": 400}[tier] + ops.randrange(0, 60)),
        "first_destination": first,
        "final_destination": final,
        "reassignments": str(reassignments),
        "first_assigned_at": iso(assigned),
        "first_response_at": iso(responded),
        "resolved_at": iso(resolved),
    }


def main():
    rng = random.Random(SEED)
    intents = list(INTENT_WEIGHTS.items())
    rows = []
    # The two paraphrases from the use case, verbatim, are always in the history.
    rows.append({"id": "T-09998", "subject": "Can't log in", "body": "I can't get into my account",
                 "page": "/login", "channel": "email", "customer.tier": "pro", "intent": "account"})
    rows.append({"id": "T-09999", "subject": "Login page", "body": "the login page just spins forever",
                 "page": "/login", "channel": "chat", "customer.tier": "starter", "intent": "account"})
    for idx in range(N_TICKETS - len(rows)):
        rows.append(ticket(rng, idx, weighted(rng, intents)))
    ops = random.Random(OPS_SEED)
    for row in rows:
        row.update(outcome(ops, row))
    # A history is exported in the order tickets arrived.
    rows.sort(key=lambda row: (row["created_at"], row["id"]))
    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "history.csv")
    with open(out, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0].keys()), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    print(f"wrote {len(rows)} tickets to {out}")


if __name__ == "__main__":
    main()
