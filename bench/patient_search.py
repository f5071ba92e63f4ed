"""Patient search at national scale: p50/p99 latency of name, CIN, phone and record-number searches.

Usage: .venv/bin/python bench/patient_search.py [--patients 200000] [--visits 400000] [--queries 400]
       [--http 200] [--only sqlite|postgres] [--database NAME] [--sqlite-dir DIR]
Builds (once) a registry of synthetic patients with realistic Moroccan names in Latin and Arabic script,
spelled the many ways clerks write them, registered at 50 sites, and ``--visits`` closed visits (four in
five at the patient's own site, the others at another one: a site's scope holds the patients it registered
and those it saw), in its own databases: SQLite under /tmp/caravane-patient-bench and PostgreSQL database
``caravane_patient_bench`` (DATABASE_URL's server, or postgres@127.0.0.1).
Then it times ``search_patients`` in-process, as a national user and as a nurse restricted to one site, and
then, end to end, ``--http`` searches of the same workload through HTTP as that nurse: the search page with a
session cookie and the API with a bearer token, each request authenticated, scoped and audited, served by
a production-mode server it starts (`caravane serve`, two web processes with REDIS_URL, one without, on
the first free port of 8151-8159).
Target: p99 under 50 ms on PostgreSQL.
"""

from __future__ import annotations

import random
import time

from urllib.parse import quote

from benchlib import (HttpClient, HttpServer, latency, main_per_database, percentile, session_cookie, setup_django,
                      verdict)

TARGET_P99_MS = 50
BENCH_DB = "caravane_patient_bench"

# (Latin spellings, Arabic); earlier entries are more common (weights follow a Zipf law).
MALE = [
    (["Mohamed", "Mohammed", "Mhamed", "Muhammad"], "محمد"), (["Ahmed", "Ahmad"], "أحمد"),
    (["Youssef", "Yousef", "Youssouf"], "يوسف"), (["Hassan", "Hasan"], "حسن"), (["Omar", "Oumar"], "عمر"),
    (["Brahim", "Ibrahim"], "إبراهيم"), (["Abdellah", "Abdallah"], "عبد الله"), (["Rachid", "Rashid"], "رشيد"),
    (["Said", "Saïd"], "سعيد"), (["Mustapha", "Mostafa"], "مصطفى"), (["Ali"], "علي"), (["Lahcen", "Lahsen"], "لحسن"),
    (["Abdelaziz", "Abd El Aziz"], "عبد العزيز"), (["Khalid", "Khaled"], "خالد"), (["Driss", "Idriss"], "إدريس"),
    (["Hamid"], "حميد"), (["Karim", "Kareem"], "كريم"), (["Mbarek", "Moubarak"], "مبارك"), (["Jamal", "Djamal"], "جمال"),
    (["Hicham", "Hisham"], "هشام"), (["Yassine", "Yacine"], "ياسين"), (["Amine"], "أمين"), (["Ayoub"], "أيوب"),
    (["Zakaria", "Zakariya"], "زكرياء"), (["Ismail", "Smail"], "إسماعيل"), (["Othmane", "Otmane"], "عثمان"),
    (["Soufiane", "Sofiane"], "سفيان"), (["Bilal"], "بلال"), (["Tarik", "Tariq"], "طارق"),
    (["Redouane", "Ridouane"], "رضوان"), (["Abderrahim"], "عبد الرحيم"), (["Abdelkader"], "عبد القادر"),
    (["Noureddine", "Nour Eddine"], "نور الدين"), (["Lahoucine", "Lhoussaine"], "لحسين"), (["Hammou"], "حمو"),
    (["Moha"], "موحى"), (["Larbi"], "العربي"), (["Aziz"], "عزيز"), (["Hussein", "Houssine"], "حسين"),
]
FEMALE = [
    (["Fatima", "Fatema", "Fatna"], "فاطمة"), (["Khadija", "Khadidja"], "خديجة"), (["Aicha", "Aïcha"], "عائشة"),
    (["Zineb", "Zaynab"], "زينب"), (["Malika"], "مليكة"), (["Naima", "Naïma"], "نعيمة"), (["Rachida"], "رشيدة"),
    (["Saida", "Saïda"], "سعيدة"), (["Meryem", "Maryam"], "مريم"), (["Hafsa"], "حفصة"), (["Salma"], "سلمى"),
    (["Imane", "Iman"], "إيمان"), (["Hanane", "Hanan"], "حنان"), (["Nadia"], "نادية"), (["Samira"], "سميرة"),
    (["Latifa"], "لطيفة"), (["Halima"], "حليمة"), (["Touria", "Thouria"], "ثريا"), (["Fadma"], "فاضمة"),
    (["Itto"], "إيطو"), (["Yamna"], "يامنة"), (["Mina"], "مينة"), (["Habiba"], "حبيبة"),
    (["Soukaina", "Soukayna"], "سكينة"), (["Chaimae", "Chaima"], "شيماء"), (["Hajar"], "هاجر"), (["Loubna"], "لبنى"),
    (["Asmae", "Asmaa"], "أسماء"), (["Kaoutar", "Kawtar"], "كوثر"), (["Ouafae", "Wafae"], "وفاء"),
]
FAMILY = [
    (["Alaoui", "El Alaoui"], "العلوي"), (["El Idrissi", "Idrissi", "Elidrissi"], "الإدريسي"), (["Benali"], "بنعلي"),
    (["Bennani"], "بناني"), (["Tazi"], "التازي"), (["Berrada"], "برادة"), (["El Amrani", "Amrani"], "العمراني"),
    (["Chraibi"], "الشرايبي"), (["Lahlou"], "لحلو"), (["El Fassi", "Fassi"], "الفاسي"),
    (["Ait Ouahmane", "Aït Ouahmane"], "آيت واحمان"), (["Ait Benhaddou", "Aït Benhaddou"], "آيت بنحدو"),
    (["Ait Lahcen", "Aït Lahcen"], "آيت لحسن"), (["Ouhammou"], "أوحمو"), (["Oufkir"], "أوفقير"), (["Bouzid"], "بوزيد"),
    (["Boukhris"], "بوخريص"), (["Benjelloun"], "بنجلون"), (["Ziani", "Zayani"], "الزياني"),
    (["El Haddad", "Haddad"], "الحداد"), (["Naciri", "Nassiri"], "الناصري"), (["Saidi", "Saïdi"], "السعيدي"),
    (["Mansouri"], "المنصوري"), (["Belkadi"], "بلقاضي"), (["Chakiri"], "الشاكري"), (["Kettani"], "الكتاني"),
    (["Filali"], "الفيلالي"), (["Ouazzani"], "الوزاني"), (["Sbai", "Sebbai"], "السباعي"), (["Bakkali"], "البقالي"),
    (["Hamdaoui"], "الحمداوي"), (["Khattabi"], "الخطابي"), (["Rifi"], "الريفي"), (["Zerouali"], "الزروالي"),
    (["Jebli"], "الجبلي"), (["Amzil"], "أمزيل"), (["Ait Baha", "Aït Baha"], "آيت باها"),
    (["Ait Said", "Aït Saïd"], "آيت سعيد"), (["Ouchen"], "أوشن"), (["Akhiat"], "أخيات"), (["Boutaleb"], "بوطالب"),
    (["Moussaoui"], "الموساوي"), (["Karimi"], "الكريمي"), (["Rahmouni"], "الرحموني"), (["Tahiri"], "الطاهري"),
    (["Jaafari", "Jaafri"], "الجعفري"), (["Ghazali"], "الغزالي"), (["Skalli"], "السقلي"), (["Benkirane"], "بنكيران"),
    (["Lamrani"], "اللمراني"), (["Ouaziz"], "واعزيز"), (["Ikhlef"], "إخلف"), (["Outaleb"], "أوطالب"),
]
CIN_PREFIXES = ["A", "B", "BE", "BH", "BJ", "BK", "C", "CB", "D", "E", "EE", "F", "G", "H", "HA", "I", "J", "JA",
                "JB", "JC", "JE", "JH", "JK", "JM", "JT", "K", "L", "M", "N", "P", "PA", "Q", "R", "S", "SH", "T", "U",
                "UA", "V", "W", "X", "Y", "Z", "ZT"]


def zipf_weights(n: int) -> list[float]:
    return [1 / (rank + 1) for rank in range(n)]


def synthetic_people(count: int, rng: random.Random, cins: set):
    """(given, family, given_ar, family_ar, gender, birth_date, cin, phone) for ``count`` people; CINs not in ``cins``."""
    import datetime

    weights = {"male": zipf_weights(len(MALE)), "female": zipf_weights(len(FEMALE)), "family": zipf_weights(len(FAMILY))}
    for _ in range(count):
        gender = rng.choice(("male", "female"))
        names = MALE if gender == "male" else FEMALE
        given_latin, given_ar = rng.choices(names, weights[gender])[0]
        family_latin, family_ar = rng.choices(FAMILY, weights["family"])[0]
        script = rng.random()
        latin = script < 0.9
        arabic = script > 0.2
        given = rng.choice(given_latin) if latin else ""
        family = rng.choice(family_latin) if latin else ""
        birth = datetime.date(1935, 1, 1) + datetime.timedelta(days=rng.randrange(0, 32000))
        cin = None
        if rng.random() < 0.6:
            while cin is None or cin in cins:
                cin = f"{rng.choice(CIN_PREFIXES)}{rng.randrange(10000, 999999)}"
            cins.add(cin)
        phone = f"+2126{rng.randrange(10**7, 10**8)}" if rng.random() < 0.7 else ""
        yield (given, family, given_ar if arabic else "", family_ar if arabic else "", gender, birth, cin, phone)


def build(count: int, sites: int = 50, at: list | None = None) -> None:
    """Fill the bench database with ``count`` patients spread over ``sites`` bench sites (or the ``at`` sites),
    if it does not hold them yet."""
    from django.db import transaction

    from caravane.core.models import new_uuid7
    from caravane.geo.models import Commune, Province, Region
    from caravane.network.models import Site
    from caravane.patients.identifiers import record_number_for
    from caravane.patients.models import Patient, PatientNameToken
    from caravane.patients.names import comparable, name_keys, pair_keys, skeleton_text
    from caravane.patients.search import ALIAS_SEPARATOR

    have = Patient.objects.count()
    if have >= count:
        return
    print(f"  building {count - have} patients...", flush=True)
    region, _ = Region.objects.get_or_create(code="90", defaults={"name_fr": "Bench", "name_ar": "جهة",
                                                                   "population_2024": 0})
    province, _ = Province.objects.get_or_create(code="90.001", defaults={
        "name_fr": "Bench", "name_ar": "إقليم", "kind": "province", "region": region, "population_2024": 0})
    commune, _ = Commune.objects.get_or_create(code="90.001.01.01", defaults={
        "code_digits": "900010101", "name_fr": "Bench", "name_ar": "جماعة", "kind": "rural", "province": province,
        "region": region, "population_2024": 1, "centroid_lat": 31.0, "centroid_lon": -7.0,
        "geometry": {"type": "Point", "coordinates": [-7.0, 31.0]}, "geometry_source": "code"})
    sites = at or [Site.objects.get_or_create(code=f"bench-site-{n}", defaults={
        "name": f"Bench site {n}", "kind": Site.Kind.RURAL_HEALTH_CENTRE, "commune": commune,
        "latitude": 31.0, "longitude": -7.0})[0] for n in range(sites)]
    rng = random.Random(2026 + have)
    batch_patients, batch_tokens = [], []

    def flush():
        with transaction.atomic():
            Patient.objects.bulk_create(batch_patients)
            PatientNameToken.objects.bulk_create(batch_tokens)
        batch_patients.clear()
        batch_tokens.clear()

    started = time.perf_counter()
    for n, (given, family, given_ar, family_ar, gender, birth, cin, phone) in enumerate(
            synthetic_people(count - have, rng, set(Patient.objects.exclude(national_id=None)
                                                     .values_list("national_id", flat=True)))):
        pk = new_uuid7()
        names = [name for name in (f"{given} {family}".strip(), f"{given_ar} {family_ar}".strip()) if name]
        patient = Patient(id=pk, record_number=record_number_for(pk), given_name=given, family_name=family,
                          given_name_ar=given_ar, family_name_ar=family_ar, gender=gender, birth_date=birth,
                          national_id=cin, phone=phone, registration_site=sites[n % len(sites)],
                          search_text=ALIAS_SEPARATOR.join(comparable(name) for name in names),
                          search_keys=ALIAS_SEPARATOR.join(skeleton_text(name) for name in names))
        batch_patients.append(patient)
        keys = set()
        for name in names:  # as index_patient_names does, in bulk
            words = name_keys(name)
            keys.update(words, pair_keys(words))
        batch_tokens.extend(PatientNameToken(patient_id=pk, key=key, site_id=patient.registration_site_id) for key in keys)
        if len(batch_patients) == 5000:
            flush()
    flush()
    print(f"  built in {time.perf_counter() - started:.0f} s", flush=True)


def build_visits(count: int) -> None:
    """Add closed visits until there are ``count`` (most at the patient's registration site, a fifth elsewhere)."""
    import datetime

    from django.db import transaction

    from caravane.care.models import Encounter
    from caravane.network.models import Site, StaffMember
    from caravane.patients.models import Patient

    missing = count - Encounter.objects.count()
    if missing <= 0:
        return
    print(f"  building {missing} visits...", flush=True)
    started = time.perf_counter()
    clerk, _ = StaffMember.objects.get_or_create(first_name="Bench", last_name="Clerk", role="nurse")
    sites = list(Site.objects.filter(code__startswith="bench-site-").values_list("pk", flat=True))
    patients = list(Patient.objects.values_list("pk", "registration_site_id"))
    rng = random.Random(count)
    first = datetime.datetime(2024, 1, 1, 9, tzinfo=datetime.timezone.utc)
    batch = []
    for n in range(missing):
        patient_id, home = rng.choice(patients)
        at = home if rng.random() < 0.8 else rng.choice(sites)
        when = first + datetime.timedelta(days=rng.randrange(700), minutes=n % 480)
        batch.append(Encounter(patient_id=patient_id, site_id=at, service_date=when.date(), status="done",
                               checked_in_at=when, finished_at=when, checked_in_by=clerk, signed_at=when,
                               signed_by=clerk))
        if len(batch) == 5000:
            with transaction.atomic():
                Encounter.objects.bulk_create(batch)
            batch.clear()
    Encounter.objects.bulk_create(batch)
    print(f"  built in {time.perf_counter() - started:.0f} s", flush=True)


def queries(count: int, rng: random.Random) -> list[tuple[str, str]]:
    """(kind, query) pairs: full names in other spellings and scripts, single names, name beginnings, identifiers."""
    from caravane.patients.models import Patient

    chosen = rng.sample(sorted(Patient.objects.values_list("pk", flat=True)), count)  # the same ones every run
    rows = Patient.objects.in_bulk(chosen)
    sample = [(p.given_name, p.family_name, p.given_name_ar, p.family_name_ar, p.national_id, p.phone,
               p.record_number) for p in (rows[pk] for pk in chosen)]
    result = []
    for n, (given, family, given_ar, family_ar, cin, phone, number) in enumerate(sample):
        kind = n % 7
        if kind == 0 and given_ar:
            result.append(("name, Arabic", f"{given_ar} {family_ar}"))
        elif kind == 1 and given:
            variants = next((v for v, ar in MALE + FEMALE if given in v), [given])
            result.append(("name, other spelling", f"{rng.choice(variants)} {family}".lower()))
        elif kind == 2 and cin:
            result.append(("CIN", cin.lower()))
        elif kind == 3 and phone:
            result.append(("phone", "0" + phone[4:]))
        elif kind == 4:
            result.append(("record number", number))
        elif kind == 5 and (family or family_ar):
            # The beginning of a name as it is being typed, 3 to 6 letters.
            name = (family or family_ar).split()[-1]
            result.append(("name beginning", name[:rng.randint(3, 6)]))
        else:
            result.append(("single common name", rng.choice(["Mohamed", "محمد", "Fatima", "Alaoui", "Ait Baha"])))
    return result


def child(args) -> None:
    """Build and time against the database this process was started on."""
    setup_django()
    from django.core.management import call_command
    from django.db import connection, reset_queries

    from caravane.accounts.models import User
    from caravane.core.access import Perm, scope_of
    from caravane.network.models import Assignment, Site, StaffMember
    from caravane.patients.models import Patient
    from caravane.patients.search import search_patients

    call_command("migrate", verbosity=0)
    build(args.patients)
    build_visits(args.visits)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            for table in ("patients_patient", "patients_patientnametoken", "care_encounter"):
                cursor.execute(f"VACUUM ANALYZE {table}")
    user, created = User.objects.get_or_create(username="bench-nurse")
    if created:
        import datetime

        staff = StaffMember.objects.create(user=user, first_name="Bench", last_name="Nurse", role="nurse")
        Assignment.objects.create(staff=staff, site=Site.objects.get(code="bench-site-0"),
                                  start_date=datetime.date(2020, 1, 1))
    user = User.objects.get(pk=user.pk)
    rng = random.Random(7)
    workload = queries(args.queries, rng)
    from caravane.care.models import Encounter

    print(f"{connection.vendor}: {Patient.objects.count()} patients, {Encounter.objects.count()} visits, "
          f"{len(workload)} queries")
    for label, queryset, scope in (("national scope", Patient.objects.all(), None),
                                   ("one site's nurse", Patient.objects.restrict(user, Perm.VIEW_PATIENT), scope_of(user))):
        for _kind, query in workload[:20]:  # warm caches
            search_patients(queryset, query, scope=scope)
        samples, by_kind = [], {}
        for kind, query in workload:
            started = time.perf_counter()
            search_patients(queryset, query, scope=scope)
            elapsed = (time.perf_counter() - started) * 1000
            samples.append(elapsed)
            by_kind.setdefault(kind, []).append(elapsed)
        reset_queries()
        print(f"  {label:17} {latency(samples)}{target(samples, connection.vendor)}")
        for kind, values in sorted(by_kind.items()):
            print(f"      {kind:22} n={len(values):3}  {latency(values)}")
    if args.http:
        over_http(user, [query for _kind, query in workload[:args.http]], connection.vendor)


def target(samples: list[float], vendor: str) -> str:
    """The verdict on the target, on PostgreSQL where it is set."""
    return f"   ({verdict(percentile(samples, 0.99), TARGET_P99_MS)})" if vendor == "postgresql" else ""


def over_http(user, searches: list[str], vendor: str) -> None:
    """Time ``searches`` through a real server as ``user``: the page (session) and the API (bearer token)."""
    import datetime

    from django.utils import timezone

    from caravane.accounts.actions import do_create_api_token

    _token, raw = do_create_api_token(user=user, name="search bench",
                                      expires_at=timezone.now() + datetime.timedelta(hours=2))
    with HttpServer() as server:
        print(f"  through HTTP as the nurse ({server.describe()}), {len(searches)} searches each:")
        page = HttpClient(server.port, cookie=session_cookie(user))
        samples = page.timed([f"/patients/?q={quote(query)}" for query in searches])
        print(f"      {'search page':22}        {latency(samples)}{target(samples, vendor)}")
        api = HttpClient(server.port, token=raw)
        samples = api.timed([f"/api/patients/?q={quote(query)}" for query in searches])
        print(f"      {'API search':22}        {latency(samples)}{target(samples, vendor)}")


def main():
    main_per_database(__file__, __doc__, child,
                      counts={"patients": 200_000, "visits": 400_000, "queries": 400, "http": 200},
                      sqlite_dir="/tmp/caravane-patient-bench", database=BENCH_DB)


if __name__ == "__main__":
    main()
