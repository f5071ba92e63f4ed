"""The demo network: Morocco's rural telemedicine programme, built on the real geography.

``build_demo_network`` is idempotent: every row it makes has a stable key (a site code, a
username, or a UUID derived from the slot it fills), and a second run only adds what is
missing. Everything is written in one transaction with one audit row. The placement rule
for the 50 mobile units is documented in docs/demo-network.md.
"""

from __future__ import annotations

import datetime
import random
import re
import time
import uuid
from dataclasses import dataclass

from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.db.models import Sum
from django.utils.text import slugify
from unidecode import unidecode

from caravane.audit.actions import do_record_audit
from caravane.core.events import publish_on_commit
from caravane.network.actions import NETWORK_GROUP
from caravane.core.access import Role
from caravane.network.models import Assignment, Deployment, DeviceKind, Site, Specialty, StaffMember

DEMO_PASSWORD = "caravane-demo-2026"
# Fixed so that every run yields the same rows; well before any "today" the demo will be used on.
DEMO_START = datetime.date(2025, 1, 6)
_NAMESPACE = uuid.UUID("6f1c2a8e-3b7d-5e0f-9a41-0c2d8b7e5a13")

SPECIALTIES = [
    ("gyn-obstetrics", "Gynécologie-obstétrique", "أمراض النساء والتوليد", "Gynaecology and obstetrics"),
    ("paediatrics", "Pédiatrie", "طب الأطفال", "Paediatrics"),
    ("endocrinology", "Endocrinologie", "أمراض الغدد الصماء", "Endocrinology"),
    ("dermatology", "Dermatologie", "الأمراض الجلدية", "Dermatology"),
    ("ent", "Oto-rhino-laryngologie", "أمراض الأنف والأذن والحنجرة", "Ear, nose and throat"),
    ("cardiology", "Cardiologie", "أمراض القلب", "Cardiology"),
    ("pulmonology", "Pneumologie", "أمراض الرئة", "Pulmonology"),
    ("nephrology", "Néphrologie", "أمراض الكلى", "Nephrology"),
    ("internal-medicine", "Médecine interne", "الطب الباطني", "Internal medicine"),
]

DEVICE_KINDS = [
    ("bp-monitor", "Tensiomètre", "جهاز قياس ضغط الدم", "Blood-pressure monitor"),
    ("ecg", "Électrocardiographe", "جهاز تخطيط القلب", "Electrocardiograph (ECG)"),
    ("thermometer", "Thermomètre", "ميزان الحرارة", "Thermometer"),
    ("dermatoscope", "Dermatoscope", "منظار الجلد", "Dermatoscope"),
    ("pulse-oximeter", "Oxymètre de pouls", "مقياس التأكسج النبضي", "Pulse oximeter"),
    ("glucometer", "Glucomètre", "جهاز قياس السكر في الدم", "Glucometer"),
    ("otoscope", "Otoscope", "منظار الأذن", "Otoscope"),
    ("ultrasound-probe", "Sonde d'échographie", "مسبار الفحص بالصدى", "Ultrasound probe"),
    ("spirometer", "Spiromètre", "مقياس التنفس", "Spirometer"),
    ("stethoscope", "Stéthoscope connecté", "سماعة طبية متصلة", "Connected stethoscope"),
]

# The central platform's specialties (2023 programme) and how its 20 specialists split across them.
CENTRAL_SPECIALISTS = [("gyn-obstetrics", 3), ("paediatrics", 3), ("endocrinology", 3), ("dermatology", 3),
                       ("ent", 3), ("cardiology", 3), ("pulmonology", 2)]
PILOT_EQUIPMENT = ["bp-monitor", "ecg", "thermometer", "dermatoscope"]
UNIT_EQUIPMENT = ["bp-monitor", "ecg", "thermometer", "pulse-oximeter", "glucometer", "otoscope"]
REGIONAL_EQUIPMENT = ["bp-monitor", "ecg", "thermometer", "dermatoscope", "pulse-oximeter", "ultrasound-probe",
                      "otoscope", "spirometer"]
# Every regional centre offers these, plus two of ROTATING_SPECIALTIES chosen by its region.
REGIONAL_SPECIALTIES = ["gyn-obstetrics", "paediatrics", "internal-medicine", "cardiology"]
ROTATING_SPECIALTIES = ["endocrinology", "dermatology", "ent", "pulmonology", "nephrology"]

# The six pilot rural health centres: (slug, name, Arabic name, province names, commune names).
# Anfgou is a village of the Anemzi commune (Midelt); the census lists communes, not villages.
PILOT_CENTRES = [
    ("zaouiat-ahansal", "Zaouiat Ahansal", "زاوية أحنصال", ["Azilal"], ["Zaouiat Ahansal", "Zaouit Ahansal"]),
    ("ait-tamlil", "Aït Tamlil", "آيت تمليل", ["Azilal"], ["Ait Tamlil", "Aït Tamlil", "Ait Tamelil"]),
    ("anfgou", "Anfgou", "أنفكو", ["Midelt"], ["Anfgou", "Anefgou", "Anemzi"]),
    ("imilchil", "Imilchil", "إملشيل", ["Midelt"], ["Imilchil", "Imelchil"]),
    ("taliouine", "Taliouine", "تالوين", ["Taroudant", "Taroudannt"], ["Taliouine", "Taliwine"]),
    ("talsint", "Talsint", "تالسينت", ["Figuig"], ["Talsint"]),
]
# The capital commune of each region, where its regional hospital hosts the regional centre.
REGION_CAPITALS = {
    "01": ["Tanger", "Tangier"], "02": ["Oujda"], "03": ["Fès", "Fes"], "04": ["Rabat"],
    "05": ["Béni Mellal", "Beni Mellal"], "06": ["Casablanca"], "07": ["Marrakech"],
    "08": ["Errachidia", "Er-Rachidia"], "09": ["Agadir"], "10": ["Guelmim"], "11": ["Laâyoune", "Laayoune"],
    "12": ["Dakhla", "Ad-Dakhla"],
}
UNIT_PROVINCES = 40
PROVINCES_WITH_TWO_UNITS = 10
# Per mobile unit (programme totals for 50 units: 50 GPs, 100 nurses, 100 administrative assistants).
UNIT_TEAM = [(Role.GP, 1), (Role.NURSE, 2), (Role.ADMINISTRATIVE_ASSISTANT, 2)]
# Pilot centres and regional centres each get one of these, on top of the programme totals.
SITE_TEAM = [(Role.GP, 1), (Role.NURSE, 1), (Role.ADMINISTRATIVE_ASSISTANT, 1)]

MALE_NAMES = [("Mohamed", "محمد"), ("Ahmed", "أحمد"), ("Youssef", "يوسف"), ("Hassan", "حسن"), ("Omar", "عمر"),
              ("Rachid", "رشيد"), ("Said", "سعيد"), ("Abdelkader", "عبد القادر"), ("Karim", "كريم"),
              ("Mustapha", "مصطفى"), ("Hamid", "حميد"), ("Driss", "إدريس"), ("Khalid", "خالد"),
              ("Brahim", "إبراهيم"), ("Lahcen", "لحسن"), ("Mehdi", "مهدي"), ("Anas", "أنس"), ("Ayoub", "أيوب"),
              ("Hicham", "هشام"), ("Nabil", "نبيل"), ("Moha", "موحى"), ("Abdellah", "عبد الله")]
FEMALE_NAMES = [("Fatima", "فاطمة"), ("Khadija", "خديجة"), ("Aicha", "عائشة"), ("Meryem", "مريم"),
                ("Salma", "سلمى"), ("Nadia", "نادية"), ("Zineb", "زينب"), ("Hanane", "حنان"), ("Imane", "إيمان"),
                ("Latifa", "لطيفة"), ("Samira", "سميرة"), ("Houda", "هدى"), ("Asmae", "أسماء"), ("Naima", "نعيمة"),
                ("Karima", "كريمة"), ("Sanaa", "سناء"), ("Ghizlane", "غزلان"), ("Loubna", "لبنى"),
                ("Hafsa", "حفصة"), ("Itto", "إطو"), ("Touda", "تودة"), ("Siham", "سهام")]
FAMILY_NAMES = [("El Amrani", "العمراني"), ("Benali", "بنعلي"), ("Alaoui", "العلوي"), ("Bennani", "بناني"),
                ("Tazi", "التازي"), ("El Idrissi", "الإدريسي"), ("Ouahmane", "وحمان"), ("Ait Lahcen", "آيت لحسن"),
                ("Amzil", "أمزيل"), ("Boutaleb", "بوطالب"), ("Cherkaoui", "الشرقاوي"), ("Lahlou", "لحلو"),
                ("Berrada", "برادة"), ("El Fassi", "الفاسي"), ("Ouchen", "أوشن"), ("Zeroual", "زروال"),
                ("Moussaoui", "الموساوي"), ("Kabbaj", "القباج"), ("Naciri", "الناصري"), ("Ziani", "الزياني"),
                ("Bouazza", "بوعزة"), ("El Ouardi", "الوردي"), ("Id Brahim", "إد إبراهيم"), ("Akhiat", "أخيات"),
                ("Oubella", "أوبلا"), ("Raji", "الراجي"), ("Chraibi", "الشرايبي"), ("Haddad", "الحداد")]


class DemoError(RuntimeError):
    """The demo cannot be built (a place of the reference programme is missing from the geography)."""


@dataclass
class DemoLogin:
    username: str
    role: str
    site: str


@dataclass
class DemoResult:
    counts: dict[str, int]
    created: dict[str, int]
    logins: list[DemoLogin]
    seconds: float
    password: str = DEMO_PASSWORD


@dataclass
class _Person:
    key: str
    role: str
    site_code: str | None
    specialty: str | None = None
    username: str | None = None
    coverage_region: str | None = None


def demo_id(*parts: object) -> uuid.UUID:
    """A stable UUID for a demo row, derived from the slot it fills."""
    return uuid.uuid5(_NAMESPACE, ":".join(str(part) for part in parts))


def _norm(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", unidecode(text).lower())


_COMMUNE_FIELDS = ("code", "name_fr", "name_ar", "kind", "province_id", "region_id", "population_2024",
                   "centroid_lat", "centroid_lon")


class _Geography:
    """The loaded geography, read once (without boundaries), with lookups by name."""

    def __init__(self):
        from caravane.geo.models import Commune, Province, Region

        self.regions = {region.code: region for region in Region.objects.all()}
        self.provinces = {p.code: p for p in Province.objects.all()}
        self.communes = list(Commune.objects.only(*_COMMUNE_FIELDS).order_by("-population_2024", "code"))
        if any(code not in self.regions for code in REGION_CAPITALS) or not self.communes:
            raise DemoError("The geography of Morocco is not loaded: run `caravane load_geography` first.")

    def province(self, names: list[str]):
        wanted = [_norm(name) for name in names]
        for province in self.provinces.values():
            if _norm(province.name_fr) in wanted:
                return province
        raise DemoError(f"Province {names[0]!r} not found in the geography (tried {', '.join(names)}).")

    def commune(self, names: list[str], *, province_code=None, region_code=None):
        """The most populous commune bearing one of ``names`` (first name preferred) in a province or region."""
        for name in names:
            wanted = _norm(name)
            for commune in self.communes:
                if province_code and commune.province_id != province_code:
                    continue
                if region_code and commune.region_id != region_code:
                    continue
                if _norm(commune.name_fr) == wanted:
                    return commune
        where = self.provinces[province_code].name_fr if province_code else self.regions[region_code].name_fr
        raise DemoError(f"Commune {names[0]!r} not found in {where} (tried {', '.join(names)}).")

    def unit_placements(self) -> list[tuple]:
        """(province, base commune) for each mobile unit, by the documented rule."""
        from caravane.geo.models import Commune

        rural = (Commune.objects.filter(kind=Commune.Kind.RURAL).values("province_id")
                 .annotate(rural=Sum("population_2024")).order_by("-rural", "province_id"))
        ranked = [row["province_id"] for row in rural][:UNIT_PROVINCES]
        if len(ranked) < UNIT_PROVINCES:
            raise DemoError(f"Only {len(ranked)} provinces have rural communes; the demo needs {UNIT_PROVINCES}.")
        order = ranked + ranked[:PROVINCES_WITH_TWO_UNITS]
        used: set[str] = set()
        placements = []
        for province_code in order:
            base = next(c for c in self.communes if c.province_id == province_code
                        and c.kind == Commune.Kind.RURAL and c.code not in used)
            used.add(base.code)
            placements.append((self.provinces[province_code], base))
        return placements


def _name_for(key: str) -> dict:
    """A plausible Moroccan name in Latin and Arabic script, always the same for a slot."""
    rng = random.Random(key)
    first, first_ar = rng.choice(MALE_NAMES if rng.random() < 0.5 else FEMALE_NAMES)
    last, last_ar = rng.choice(FAMILY_NAMES)
    return {"first_name": first, "first_name_ar": first_ar, "last_name": last, "last_name_ar": last_ar,
            "phone": f"+2126{rng.randrange(10**7, 10**8)}"}


def _site_row(code, name, name_ar, kind, commune, parent_code=None) -> dict:
    return {"code": code, "name": name, "name_ar": name_ar, "kind": kind, "commune": commune,
            "parent_code": parent_code}


def _plan_sites(geo: _Geography) -> tuple[list[dict], dict[str, list[str]], dict[str, list[str]], list]:
    """The sites of the programme, with their specialties and equipment, and the unit placements."""
    sites, specialties, equipment = [], {}, {}
    all_specialties = [code for code, *_ in SPECIALTIES]
    national = _site_row("national-expertise-centre", "Centre national d'expertise – CHU Ibn Rochd, Casablanca",
                         "المركز الوطني للخبرة – المستشفى الجامعي ابن رشد، الدار البيضاء",
                         Site.Kind.NATIONAL_CENTRE, geo.commune(REGION_CAPITALS["06"], region_code="06"))
    sites.append(national)
    specialties[national["code"]] = all_specialties
    equipment[national["code"]] = [code for code, *_ in DEVICE_KINDS]
    central = _site_row("central-telemedicine-platform", "Plateforme centrale de télémédecine, Rabat",
                        "المنصة المركزية للطب عن بعد، الرباط", Site.Kind.CENTRAL_PLATFORM,
                        geo.commune(REGION_CAPITALS["04"], region_code="04"))
    sites.append(central)
    specialties[central["code"]] = [code for code, _ in CENTRAL_SPECIALISTS]
    equipment[central["code"]] = []
    for index, (region_code, names) in enumerate(sorted(REGION_CAPITALS.items())):
        capital = geo.commune(names, region_code=region_code)
        region = geo.regions[region_code]
        code = f"regional-centre-{region_code}"
        sites.append(_site_row(
            code, f"Centre régional de télémédecine {region.name_fr} – hôpital régional de {capital.name_fr}",
            f"المركز الجهوي للطب عن بعد {region.name_ar} – المستشفى الجهوي {capital.name_ar}",
            Site.Kind.REGIONAL_CENTRE, capital, national["code"]))
        specialties[code] = REGIONAL_SPECIALTIES + [ROTATING_SPECIALTIES[index % 5],
                                                    ROTATING_SPECIALTIES[(index + 2) % 5]]
        equipment[code] = REGIONAL_EQUIPMENT
    for slug, name, name_ar, province_names, commune_names in PILOT_CENTRES:
        province = geo.province(province_names)
        commune = geo.commune(commune_names, province_code=province.code)
        code = f"rhc-{slug}"
        sites.append(_site_row(code, f"Centre de santé rural {name}", f"المركز الصحي القروي {name_ar}",
                               Site.Kind.RURAL_HEALTH_CENTRE, commune, f"regional-centre-{commune.region_id}"))
        equipment[code] = PILOT_EQUIPMENT
    placements = geo.unit_placements()
    for number, (province, base) in enumerate(placements, start=1):
        code = f"unit-{number:02d}"
        sites.append(_site_row(code, f"Unité médicale mobile {number:02d} – {province.name_fr}",
                               f"الوحدة الطبية المتنقلة {number:02d} – {province.name_ar}",
                               Site.Kind.MOBILE_UNIT, base, f"regional-centre-{base.region_id}"))
        equipment[code] = UNIT_EQUIPMENT
    return sites, specialties, equipment, placements


def _plan_people(site_codes: list[str], regions: dict) -> list[_Person]:
    """Everyone the demo employs, each in a stable slot; logins go to a few of them."""
    people = []
    logins = {("rhc-imilchil", Role.GP): "gp.imilchil", ("rhc-imilchil", Role.NURSE): "nurse.imilchil",
              ("rhc-imilchil", Role.ADMINISTRATIVE_ASSISTANT): "assistant.imilchil",
              ("rhc-talsint", Role.NURSE): "nurse.talsint", ("unit-01", Role.GP): "gp.unit01"}
    for code in site_codes:
        if not code.startswith(("unit-", "rhc-", "regional-centre-")):
            continue
        team = UNIT_TEAM if code.startswith("unit-") else SITE_TEAM
        for role, count in team:
            for n in range(1, count + 1):
                people.append(_Person(key=f"{code}:{role}:{n}", role=role, site_code=code,
                                      username=logins.get((code, role)) if n == 1 else None))
    people.append(_Person(key="rhc-imilchil:pharmacist:1", role=Role.PHARMACIST, site_code="rhc-imilchil",
                          username="pharmacist.imilchil"))
    for specialty, count in CENTRAL_SPECIALISTS:
        for n in range(1, count + 1):
            people.append(_Person(key=f"central:{specialty}:{n}", role=Role.SPECIALIST,
                                  site_code="central-telemedicine-platform", specialty=specialty,
                                  username=f"specialist.{specialty}" if specialty == "cardiology" and n == 1 else None))
    people.append(_Person(key="coordinator:national", role=Role.COORDINATOR, site_code="central-telemedicine-platform",
                          username="coordinator"))
    region = regions["08"]
    people.append(_Person(key="coordinator:08", role=Role.COORDINATOR, site_code="regional-centre-08",
                          username=f"coordinator.{slugify(unidecode(region.name_fr))}", coverage_region="08"))
    people.append(_Person(key="administrator", role=Role.ADMINISTRATOR, site_code=None, username="admin"))
    return people


def _create_missing(model, rows: list) -> int:
    """Insert the rows whose primary key is not stored yet; returns how many were inserted."""
    existing = set(model.objects.filter(pk__in=[row.pk for row in rows]).values_list("pk", flat=True))
    missing = [row for row in rows if row.pk not in existing]
    model.objects.bulk_create(missing, batch_size=500)
    return len(missing)


def _build(geo: _Geography) -> tuple[dict, list[DemoLogin]]:
    from caravane.accounts.models import User

    created: dict[str, int] = {}
    created["specialties"] = _create_missing(
        Specialty, [Specialty(code=c, name_fr=fr, name_ar=ar, name_en=en) for c, fr, ar, en in SPECIALTIES])
    created["device_kinds"] = _create_missing(
        DeviceKind, [DeviceKind(code=c, name_fr=fr, name_ar=ar, name_en=en) for c, fr, ar, en in DEVICE_KINDS])

    planned, specialties, equipment, placements = _plan_sites(geo)
    existing = {site.code: site for site in Site.objects.filter(code__in=[row["code"] for row in planned])}
    new_sites, moved_sites = [], []
    for row in planned:  # parents come before their children in ``planned``
        if row["code"] in existing:
            # A demo site stands at its commune's centroid: follow it when a geography reload moved it.
            site, commune = existing[row["code"]], row["commune"]
            if site.commune_id == commune.code and (site.latitude, site.longitude) != (
                    commune.centroid_lat, commune.centroid_lon):
                site.latitude, site.longitude = commune.centroid_lat, commune.centroid_lon
                moved_sites.append(site)
            continue
        parent = existing[row["parent_code"]] if row["parent_code"] else None
        commune = row["commune"]
        site = Site(id=demo_id("site", row["code"]), code=row["code"], name=row["name"], name_ar=row["name_ar"],
                    kind=row["kind"], commune=commune, parent=parent, latitude=commune.centroid_lat,
                    longitude=commune.centroid_lon)
        existing[row["code"]] = site
        new_sites.append(site)
    Site.objects.bulk_create(new_sites, batch_size=500)
    created["sites"] = len(new_sites)
    Site.objects.bulk_update(moved_sites, ["latitude", "longitude"], batch_size=500)
    created["sites_moved"] = len(moved_sites)
    Site.specialties.through.objects.bulk_create(
        [Site.specialties.through(site_id=site.pk, specialty_id=code)
         for site in new_sites for code in specialties.get(site.code, [])], ignore_conflicts=True)
    Site.equipment.through.objects.bulk_create(
        [Site.equipment.through(site_id=site.pk, devicekind_id=code)
         for site in new_sites for code in equipment.get(site.code, [])], ignore_conflicts=True)

    created["deployments"] = _create_missing(Deployment, [
        Deployment(id=demo_id("deployment", f"unit-{n:02d}"), unit=existing[f"unit-{n:02d}"], province=province,
                   base_commune=base, start_date=DEMO_START,
                   note="Demo placement: top rural provinces by 2024 rural population")
        for n, (province, base) in enumerate(placements, start=1)])

    people = _plan_people([row["code"] for row in planned], geo.regions)
    password = make_password(DEMO_PASSWORD)  # hashed once: Argon2 is slow on purpose
    users = {user.username: user for user in User.objects.filter(username__in=[p.username for p in people if p.username])}
    new_users = []
    for person in people:
        if person.username and person.username not in users:
            names = _name_for(person.key)
            user = User(id=demo_id("user", person.username), username=person.username, password=password,
                        first_name=names["first_name"], last_name=names["last_name"],
                        is_staff=person.role == Role.ADMINISTRATOR)
            users[person.username] = user
            new_users.append(user)
    User.objects.bulk_create(new_users)
    created["users"] = len(new_users)
    # The printed password must work: reset it (and any lockout) on the demo logins that already existed.
    User.objects.filter(username__in=list(users)).exclude(pk__in=[u.pk for u in new_users]).update(
        password=password, failed_login_count=0, locked_until=None, is_active=True)

    staff_rows, assignment_rows = [], []
    registration = 0
    for person in people:
        names = _name_for(person.key)
        registration_number = ""
        if person.role in (Role.GP, Role.SPECIALIST):
            registration += 1
            registration_number = f"CNOM-{20000 + registration}"
        staff_rows.append(StaffMember(
            id=demo_id("staff", person.key), role=person.role, specialty_id=person.specialty,
            registration_number=registration_number, coverage_region_id=person.coverage_region,
            user=users[person.username] if person.username else None, **names))
        if person.site_code:
            assignment_rows.append(Assignment(id=demo_id("assignment", person.key), staff_id=demo_id("staff", person.key),
                                              site=existing[person.site_code], start_date=DEMO_START))
    taken = set(StaffMember.objects.filter(user__username__in=list(users)).exclude(
        pk__in=[row.pk for row in staff_rows]).values_list("user__username", flat=True))
    if taken:
        raise DemoError(f"These demo logins already belong to other staff members: {', '.join(sorted(taken))}.")
    created["staff"] = _create_missing(StaffMember, staff_rows)
    created["assignments"] = _create_missing(Assignment, assignment_rows)

    logins = [DemoLogin(person.username, Role(person.role).label,
                        existing[person.site_code].name if person.site_code else "")
              for person in people if person.username]
    return created, logins


def demo_counts() -> dict[str, int]:
    """Row counts of the network, as the demo reports them."""
    return {
        "specialties": Specialty.objects.count(),
        "device_kinds": DeviceKind.objects.count(),
        "sites": Site.objects.count(),
        "mobile_units": Site.objects.filter(kind=Site.Kind.MOBILE_UNIT).count(),
        "deployments": Deployment.objects.count(),
        "staff": StaffMember.objects.count(),
        "assignments": Assignment.objects.count(),
    }


def build_demo_network() -> DemoResult:
    """Build (or complete) the demo network in one transaction with one audit row."""
    started = time.perf_counter()
    with transaction.atomic(durable=True):
        geo = _Geography()
        created, logins = _build(geo)
        counts = demo_counts()
        do_record_audit(actor=None, action="build_demo", target=("network.demo", ""),
                        detail={"created": created, "counts": counts})
        publish_on_commit(NETWORK_GROUP, "demo.built", {"created": created})
    return DemoResult(counts=counts, created=created, logins=logins, seconds=time.perf_counter() - started)
