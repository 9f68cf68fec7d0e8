"""The demo agenda: rooms, kits, closures, and three months of past and eight
weeks of coming events for each demo structure.

Everything goes through the real services (rooms, opening hours, closures,
kits, events and series, enrolment, attendance), with ``now`` set to the
moment each action would have happened, so every scheduling rule holds: no
room, kit or person in two places at once, events inside opening hours and
outside closures, qualifications valid on the day of the shift. Series skip
their dates that fall in a closure, as a coordinator would choose to.

What the demo shows: weekly help-desk shifts ("permanences"), some needing
the qualification « Accompagnement aux démarches en ligne »; monthly public
workshops; in-person sessions of the posture module given by each
structure's trainer; plain room bookings; a shift full with a waitlist;
under-staffed shifts in the coming two weeks; cancelled occurrences; a late
cancellation and a seat given to the waitlist; attendance on past events
(mostly present, a few absent or excused).

Deterministic: the same ``now`` gives the same agenda (no randomness).
E-mails queued by the enrolment services while building the past are
removed at the end, so the demo outbox does not start with hundreds of
confirmations for events long gone.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, time, timedelta

from dateutil.easter import easter
from sqlalchemy import func, select

from volunteer_platform.auth.models import User
from volunteer_platform.extensions import db
from volunteer_platform.notifications.models import OutboxEmail
from volunteer_platform.scheduling import enrolment, recurrence, services
from volunteer_platform.scheduling.models import (
    Attendance,
    Closure,
    Enrolment,
    EnrolmentStatus,
    Equipment,
    Event,
    EventKind,
    Kit,
    Room,
)
from volunteer_platform.tenants.models import Site, Tenant
from volunteer_platform.training import queries as training_queries
from volunteer_platform.training.demo_content import MODULES, QUALIFICATIONS
from volunteer_platform.training.models import Module, ModuleVersion, Qualification

PAST_WEEKS = 13  # about three months
FUTURE_WEEKS = 8

POSTURE_TITLE = next(spec.title for spec in MODULES if spec.key == "posture")
DEMARCHES_NAME = next(spec.name for spec in QUALIFICATIONS if spec.key == "demarches")

MON, TUE, WED, THU, FRI, SAT = range(6)

# Office hours of a French public service: mornings and afternoons, closed at lunch.
OFFICE_HOURS = tuple((day, "09:00", "12:00") for day in range(MON, SAT)) + tuple(
    (day, "13:30", "17:30") for day in range(MON, SAT)
)

TABLETS = "Valise de 8 tablettes"
ROUTER = "Routeur 4G"


class DemoAgenda:
    """Builds one structure's agenda through the services, at the right moments."""

    def __init__(self, tenant: Tenant, *, now: datetime) -> None:
        self.tenant = tenant
        self.now = now
        self.zone = tenant.timezone
        self.today = recurrence.utc_to_local(now, self.zone).date()
        self.monday = self.today - timedelta(days=self.today.weekday())
        self.first_day = self.today - timedelta(weeks=PAST_WEEKS)
        self.last_day = self.today + timedelta(weeks=FUTURE_WEEKS)
        self.sites = {s.name: s for s in db.session.scalars(select(Site).where(Site.tenant_id == tenant.id))}
        self.rooms: dict[str, Room] = {}
        self.kits: dict[str, Kit] = {}
        self.coordinator = self.person("coordination")
        self.trainer = self.person("formation")
        self.holidays = dict(_public_holidays(self.first_day, self.last_day + timedelta(days=7)))
        self._marks = 0

    # --- people and moments ------------------------------------------------------------------

    def person(self, local_part: str) -> User:
        email = local_part if "@" in local_part else f"{local_part}@{self.tenant.slug}.example.org"
        return db.session.scalars(select(User).where(User.email == email)).one()

    def day(self, week: int, weekday: int) -> date:
        """``weekday`` of the week ``week`` weeks from this one (0: this week)."""
        return self.monday + timedelta(weeks=week, days=weekday)

    def at(self, day: date, hh_mm: str) -> datetime:
        return recurrence.local_to_utc(datetime.combine(day, time.fromisoformat(hh_mm)), self.zone)

    def _created_at(self, starts_at: datetime) -> datetime:
        """Events were planned three weeks ahead, and never after ``now``."""
        return min(starts_at - timedelta(weeks=3), self.now - timedelta(days=1))

    # --- resources ---------------------------------------------------------------------------

    def room(self, site: str, name: str, capacity: int, equipment: Sequence[Equipment],
             hours: Sequence[tuple[int, str, str]] = OFFICE_HOURS) -> Room:
        room = services.create_room(self.tenant, site_id=self.sites[site].id, name=name, capacity=capacity,
                                    equipment=[e.value for e in equipment])
        if hours:
            services.set_opening_hours(room, [(d, time.fromisoformat(o), time.fromisoformat(c)) for d, o, c in hours])
        self.rooms[name] = room
        return room

    def close(self, *, site: str | None = None, room: str | None = None, starts_on: date, ends_on: date,
              reason: str) -> None:
        services.create_closure(self.tenant, site_id=self.sites[site].id if site else None,
                                room_id=self.rooms[room].id if room else None, starts_on=starts_on,
                                ends_on=ends_on, reason=reason)

    def close_public_holidays(self) -> None:
        """Every site is closed on public holidays (those of the demo's period),
        unless already closed then."""
        for site in self.sites.values():
            closed = db.session.scalars(select(Closure).where(Closure.site_id == site.id)).all()
            for day, name in sorted(self.holidays.items()):
                if not any(c.starts_on <= day <= c.ends_on for c in closed):
                    services.create_closure(self.tenant, site_id=site.id, starts_on=day, ends_on=day,
                                            reason=f"Jour férié : {name}")

    def kit(self, name: str, description: str) -> Kit:
        self.kits[name] = services.create_kit(self.tenant, name=name, description=description)
        return self.kits[name]

    # --- events ------------------------------------------------------------------------------

    def fields(self, kind: EventKind, title: str, day: date, start: str, end: str, *, room: str | None = None,
               kits: Sequence[str] = (), trainer: User | None = None, module: Module | None = None,
               capacity: int | None = None, qualification: Qualification | None = None,
               description: str = "", what_to_bring: str = "") -> services.EventFields:
        return services.EventFields(
            kind=kind, title=title, starts_at=self.at(day, start), ends_at=self.at(day, end),
            room_id=self.rooms[room].id if room else None, trainer_id=trainer.id if trainer else None,
            module_id=module.id if module else None, capacity=capacity,
            required_qualification_id=qualification.id if qualification else None,
            description=description, what_to_bring=what_to_bring, kit_ids=[self.kits[k].id for k in kits],
        )

    def event(self, kind: EventKind, title: str, week: int, weekday: int, start: str, end: str,
              **options) -> Event:
        """One event in week ``week``; if the room, a kit or the trainer is taken
        then, or the room closed, the same slot a week later (or earlier)."""
        for shift in (0, 1, -1, 2, -2):
            day = self.day(week + shift, weekday)
            f = self.fields(kind, title, day, start, end, **options)
            if day not in self.holidays and not services.problems_for(self.tenant, f):
                return services.create_event(self.tenant, f, created_by=self.coordinator,
                                             now=self._created_at(f.starts_at))
        raise RuntimeError(f"no free slot for the demo event {title!r} around week {week}")

    def series(self, kind: EventKind, title: str, weekday: int, start: str, end: str, *, every_weeks: int = 1,
               nth_of_month: int | None = None, **options) -> list[Event]:
        """A weekly (or every N weeks) series, or a monthly one on the ``nth_of_month``
        ``weekday``, from three months ago to eight weeks ahead. Dates in a
        closure are skipped."""
        if nth_of_month is None:
            first = self.first_day + timedelta(days=(weekday - self.first_day.weekday()) % 7)
            rule = recurrence.Rule(recurrence.Frequency.WEEKLY, interval=every_weeks, until=self.last_day)
        else:
            first = _nth_weekday(self.first_day.year, self.first_day.month, weekday, nth_of_month)
            if first < self.first_day:
                month = self.first_day.replace(day=1) + timedelta(days=32)
                first = _nth_weekday(month.year, month.month, weekday, nth_of_month)
            rule = recurrence.Rule(recurrence.Frequency.MONTHLY_BY_WEEKDAY, until=self.last_day)
        template = self.fields(kind, title, first, start, end, **options)
        _series, events = services.create_series(
            self.tenant, template, rule, skip_conflicts=True, created_by=self.coordinator,
            now=min(template.starts_at - timedelta(weeks=2), self.now - timedelta(days=1)),
        )
        return events

    def cancel(self, event: Event) -> None:
        """Cancel one occurrence, two days before it (or just now for a coming one)."""
        services.cancel_occurrences(
            event, services.Scope.ONE, now=min(event.starts_at - timedelta(days=2), self.now - timedelta(minutes=30))
        )

    # --- enrolments and attendance -----------------------------------------------------------

    def is_past(self, event: Event) -> bool:
        return event.starts_at <= self.now

    def enrol(self, event: Event, people: Sequence[User]) -> list[Enrolment]:
        """Sign ``people`` up in that order (a place, or the waitlist once full):
        a few days before a past event, an hour or so ago for a coming one."""
        places = []
        for index, user in enumerate(people):
            if self.is_past(event):
                moment = event.starts_at - timedelta(days=4) + timedelta(hours=3 * index)
            else:
                moment = min(self.now - timedelta(hours=1), event.starts_at - timedelta(days=2)) \
                    - timedelta(hours=5) + timedelta(minutes=20 * index)
            places.append(enrolment.enrol(event, user, now=moment))
        return places

    def qualified(self, event: Event, people: Sequence[User]) -> list[User]:
        if event.required_qualification_id is None:
            return list(people)
        return [p for p in people
                if training_queries.holds_qualification(p.id, event.required_qualification_id, event.ends_at)]

    def mark(self, event: Event, places: Sequence[Enrolment], *, by: User | None = None,
             overrides: dict[str, Attendance] | None = None) -> None:
        """Record attendance on an event that is over: mostly present; now and
        then someone absent or excused."""
        if event.ends_at > self.now:
            return
        for place in places:
            if place.status is not EnrolmentStatus.CONFIRMED:
                continue
            self._marks += 1
            attendance = Attendance.PRESENT
            if self._marks % 11 == 4:
                attendance = Attendance.ABSENT
            elif self._marks % 9 == 7:
                attendance = Attendance.EXCUSED
            if overrides and place.user.email.split("@")[0] in overrides:
                attendance = overrides[place.user.email.split("@")[0]]
            enrolment.mark_attendance(place, attendance, by=by or self.coordinator,
                                      now=event.ends_at + timedelta(hours=1))

    def rota(self, events: Sequence[Event], people: Sequence[User], *, coming: Sequence[int] = (),
             skip: Sequence[int] = ()) -> None:
        """Staff a series in turn: past occurrences full (among the people
        qualified on the day), the j-th coming one ``coming[j]`` people (then
        fewer and fewer: people sign up close to the date); attendance on the
        past ones. Occurrences whose index is in ``skip`` are left alone."""
        upcoming = 0
        for index, event in enumerate(events):
            need = event.capacity or 0
            if not self.is_past(event):
                need = min(need, coming[upcoming] if upcoming < len(coming) else (1 if upcoming % 2 == 0 else 0))
                upcoming += 1
            if index in skip or event.is_cancelled:
                continue
            rotated = [people[(index * 2 + k) % len(people)] for k in range(len(people))]
            places = self.enrol(event, self.qualified(event, rotated)[:need])
            self.mark(event, places)


def _nth_weekday(year: int, month: int, weekday: int, n: int) -> date:
    first = date(year, month, 1)
    return first + timedelta(days=(weekday - first.weekday()) % 7 + 7 * (n - 1))


def _public_holidays(first: date, last: date) -> list[tuple[date, str]]:
    """France's public holidays between ``first`` and ``last`` (inclusive)."""
    days = []
    for year in range(first.year, last.year + 1):
        monday = easter(year) + timedelta(days=1)
        days += [
            (date(year, 1, 1), "jour de l'An"), (monday, "lundi de Pâques"), (date(year, 5, 1), "fête du Travail"),
            (date(year, 5, 8), "victoire de 1945"), (monday + timedelta(days=38), "Ascension"),
            (monday + timedelta(days=49), "lundi de Pentecôte"), (date(year, 7, 14), "fête nationale"),
            (date(year, 8, 15), "Assomption"), (date(year, 11, 1), "Toussaint"),
            (date(year, 11, 11), "armistice de 1918"), (date(year, 12, 25), "Noël"),
        ]
    return [(day, name) for day, name in days if first <= day <= last]


def _christmas_holidays(today: date) -> tuple[date, date]:
    """The next (or current) Christmas school holidays, roughly: 20 December to 3 January."""
    year = today.year - 1 if today <= date(today.year, 1, 3) else today.year
    return date(year, 12, 20), date(year + 1, 1, 3)


def _posture_module() -> Module:
    return db.session.scalars(
        select(Module).join(ModuleVersion, ModuleVersion.module_id == Module.id)
        .where(Module.tenant_id.is_(None), ModuleVersion.title == POSTURE_TITLE)
    ).first()


def _qualification(name: str) -> Qualification:
    return db.session.scalars(
        select(Qualification).where(Qualification.tenant_id.is_(None), Qualification.name == name)
    ).one()


# --- the three structures ---------------------------------------------------------------------

SHIFT_DEMARCHES = "Permanence numérique — aide aux démarches"
SHIFT_DEMARCHES_TEXT = (
    "Accueil sans rendez-vous pour les démarches en ligne : CAF, ameli, impots.gouv, ANTS, France Travail. "
    "Deux bénévoles qualifiés accompagnent les personnes, une démarche à la fois."
)
POSTURE_SESSION = "Séance en présentiel — la posture de l'aidant numérique"
POSTURE_TEXT = (
    "Mises en situation en petit groupe : faire avec la personne et non à sa place, demander son accord, "
    "protéger ses données, savoir orienter. La séance valide la partie en présentiel du module."
)
POSTURE_BRING = "Lisez les leçons du module avant la séance si vous le pouvez."


def seed_bethune(agenda: DemoAgenda, posture: Module, demarches: Qualification) -> None:
    centre, antenne = "Espace solidarité — centre", "Antenne du Mont-Liébaut"
    agenda.room(centre, "Salle informatique", 10,
                [Equipment.COMPUTERS, Equipment.PROJECTOR, Equipment.WIFI, Equipment.PRINTER,
                 Equipment.WHEELCHAIR_ACCESS],
                OFFICE_HOURS + ((SAT, "09:00", "12:00"),))
    agenda.room(centre, "Bureau d'accueil numérique", 4,
                [Equipment.COMPUTERS, Equipment.WIFI, Equipment.PRINTER, Equipment.WHEELCHAIR_ACCESS])
    agenda.room(antenne, "Salle polyvalente", 16, [Equipment.WIFI, Equipment.PROJECTOR],
                tuple((d, "13:30", "18:00") for d in range(MON, SAT)) + ((WED, "09:00", "12:00"),))
    agenda.kit(TABLETS, "Huit tablettes chargées, avec leurs câbles, dans une valise à roulettes.")
    agenda.kit(ROUTER, "Point d'accès Wi-Fi 4G pour les ateliers hors les murs (forfait 100 Go).")
    # The annex was closed a week for electrical works: its shifts were not held.
    works = agenda.day(-6, MON)
    agenda.close(site=antenne, starts_on=works, ends_on=works + timedelta(days=4),
                 reason="Travaux : mise aux normes électriques")
    agenda.close_public_holidays()

    sophie, karim, monique, thomas, aicha = (agenda.person(f"benevole{i}") for i in range(1, 6))
    bernard = agenda.person("benevole-multi@demo.example.org")
    julien = agenda.trainer

    # Tuesday mornings at the centre, qualified volunteers only: Sophie's
    # qualification expires soon and Karim's already has, so the coming weeks need people.
    shifts = agenda.series(EventKind.SHIFT, SHIFT_DEMARCHES, TUE, "09:30", "12:00", room="Bureau d'accueil numérique",
                           capacity=2, qualification=demarches, description=SHIFT_DEMARCHES_TEXT,
                           what_to_bring="Votre badge de bénévole.")
    agenda.rota(shifts, [sophie, karim, julien], coming=(2, 1, 1, 0))

    # Thursday afternoons at the annex, open to every volunteer.
    annex = agenda.series(EventKind.SHIFT, "Permanence numérique du Mont-Liébaut", THU, "14:00", "17:00",
                          room="Salle polyvalente", capacity=2,
                          description="Aide à l'utilisation du téléphone, de l'ordinateur et des services en ligne, "
                                      "sans rendez-vous.")
    past = [e for e in annex if agenda.is_past(e)]
    coming = [e for e in annex if not agenda.is_past(e)]
    # Cancelled after people had signed up: a power cut at the annex, and the neighbourhood party to come.
    for cancelled, people in ((past[-3], [thomas, bernard]), (coming[4], [monique, aicha])):
        agenda.enrol(cancelled, people)
        agenda.cancel(cancelled)
    agenda.rota(annex, [monique, thomas, aicha, bernard], coming=(1, 2, 2, 1, 1))

    # Monthly public workshop, first Thursday, with two volunteers helping.
    for index, event in enumerate(agenda.series(
        EventKind.WORKSHOP, "Atelier : créer son adresse e-mail", THU, "14:00", "16:00", nth_of_month=1,
        room="Salle informatique", capacity=8,
        description="Atelier gratuit pour débutants : choisir un service de messagerie, créer son adresse, "
                    "envoyer un premier message avec une pièce jointe.",
        what_to_bring="Votre téléphone portable (pour recevoir le code de vérification).",
    )):
        if agenda.is_past(event) or index % 2 == 0:
            agenda.mark(event, agenda.enrol(event, [sophie, karim] if index % 2 else [karim, sophie]))

    # Smartphone workshop on the second Saturday morning.
    for event in agenda.series(
        EventKind.WORKSHOP, "Atelier : les bases du smartphone", SAT, "09:30", "11:30", nth_of_month=2,
        room="Salle informatique", capacity=8, kits=[TABLETS],
        description="Prendre en main son téléphone : réglages, appels, photos, installer une application.",
        what_to_bring="Votre smartphone chargé.",
    ):
        if agenda.is_past(event):
            agenda.mark(event, agenda.enrol(event, [monique]))

    # In-person posture sessions given by the trainer.
    before = agenda.event(EventKind.TRAINING_SESSION, POSTURE_SESSION, -5, WED, "14:00", "17:00",
                          room="Salle informatique", trainer=julien, module=posture, capacity=6,
                          description=POSTURE_TEXT, what_to_bring=POSTURE_BRING)
    agenda.mark(before, agenda.enrol(before, [thomas, aicha]), by=julien,
                overrides={"benevole4": Attendance.PRESENT, "benevole5": Attendance.EXCUSED})
    after = agenda.event(EventKind.TRAINING_SESSION, POSTURE_SESSION, 3, WED, "14:00", "17:00",
                         room="Salle informatique", trainer=julien, module=posture, capacity=6,
                         description=POSTURE_TEXT, what_to_bring=POSTURE_BRING)
    agenda.enrol(after, [aicha])

    # Workshops away from the centre, with the tablets and the 4G router.
    for week in (-4, 4):
        outing = agenda.event(
            EventKind.WORKSHOP, "Atelier hors les murs — résidence autonomie Les Glycines", week, FRI,
            "14:00", "16:00", kits=[TABLETS, ROUTER], capacity=8,
            description="Initiation à la tablette pour les résidents : appels vidéo avec la famille, photos.",
        )
        agenda.mark(outing, agenda.enrol(outing, [bernard, thomas]))

    # Plain room bookings.
    agenda.series(EventKind.BOOKING, "Réunion de l'équipe des bénévoles", MON, "16:00", "17:30", every_weeks=4,
                  room="Salle informatique",
                  description="Point mensuel : planning des permanences, retours d'expérience, questions.")
    for week in (-7, 2):
        agenda.event(EventKind.BOOKING, "Rendez-vous avec la conseillère France Services", week, FRI,
                     "09:30", "11:30", room="Bureau d'accueil numérique")


def seed_lens(agenda: DemoAgenda, posture: Module, demarches: Qualification) -> None:
    gare = "Point Passerelle — gare"
    agenda.room(gare, "Salle de formation", 8,
                [Equipment.COMPUTERS, Equipment.PROJECTOR, Equipment.WIFI, Equipment.PRINTER,
                 Equipment.WHEELCHAIR_ACCESS])
    agenda.room(gare, "Bureau d'accueil", 3,
                [Equipment.COMPUTERS, Equipment.WIFI, Equipment.PRINTER, Equipment.WHEELCHAIR_ACCESS])
    agenda.kit(ROUTER, "Point d'accès Wi-Fi 4G, prêté par la Fondation pour les permanences extérieures.")
    new_computers = agenda.day(3, MON)
    agenda.close(room="Salle de formation", starts_on=new_computers, ends_on=new_computers + timedelta(days=4),
                 reason="Remplacement des ordinateurs")
    agenda.close_public_holidays()

    lucie, olivier, fatima, jean_pierre, ines = (agenda.person(f"benevole{i}") for i in range(1, 6))
    bernard = agenda.person("benevole-multi@demo.example.org")
    emilie = agenda.trainer

    shifts = agenda.series(EventKind.SHIFT, SHIFT_DEMARCHES, TUE, "14:00", "17:00", room="Bureau d'accueil",
                           capacity=2, qualification=demarches, description=SHIFT_DEMARCHES_TEXT)
    agenda.rota(shifts, [lucie, fatima, olivier], coming=(2, 1, 1, 1))

    # Wednesday mornings for job seekers: the coming one is full, Bernard waits for a seat.
    job = agenda.series(
        EventKind.SHIFT, "Permanence emploi — France Travail et CV", WED, "09:30", "12:00",
        room="Salle de formation", capacity=2,
        description="Aide à l'espace France Travail, aux candidatures en ligne et à la mise en page du CV.",
    )
    past = [e for e in job if agenda.is_past(e)]
    coming = [e for e in job if not agenda.is_past(e)]
    late, cancelled = past[-2], past[-6]
    agenda.enrol(cancelled, [olivier, ines])
    agenda.cancel(cancelled)  # the station was evacuated for a security alert
    agenda.rota(job, [jean_pierre, ines, bernard, olivier], coming=(0, 1, 2, 1),
                skip=[job.index(late), job.index(coming[0])])
    # Inès was ill the day before: the coordinator cancelled her place late, Bernard got it.
    places = agenda.enrol(late, [jean_pierre, ines, bernard])
    enrolment.cancel(places[1], now=late.starts_at - timedelta(hours=16), by=agenda.coordinator,
                     as_coordinator=True)
    agenda.mark(late, places, overrides={"benevole4": Attendance.PRESENT, "benevole-multi": Attendance.PRESENT})
    agenda.enrol(coming[0], [jean_pierre, ines, bernard])

    for event in agenda.series(
        EventKind.WORKSHOP, "Atelier : rédiger son CV sur ordinateur", THU, "14:00", "16:00", nth_of_month=2,
        room="Salle de formation", capacity=8,
        description="Mettre en forme un CV clair avec un traitement de texte gratuit, l'enregistrer en PDF "
                    "et l'envoyer.",
        what_to_bring="Une clé USB si vous en avez une, et votre ancien CV.",
    ):
        if agenda.is_past(event):
            agenda.mark(event, agenda.enrol(event, [lucie, olivier]))

    before = agenda.event(EventKind.TRAINING_SESSION, POSTURE_SESSION, -8, MON, "14:00", "17:00",
                          room="Salle de formation", trainer=emilie, module=posture, capacity=6,
                          description=POSTURE_TEXT, what_to_bring=POSTURE_BRING)
    agenda.mark(before, agenda.enrol(before, [jean_pierre, ines, olivier]), by=emilie,
                overrides={"benevole4": Attendance.PRESENT, "benevole5": Attendance.PRESENT,
                           "benevole2": Attendance.ABSENT})
    after = agenda.event(EventKind.TRAINING_SESSION, POSTURE_SESSION, 4, MON, "14:00", "17:00",
                         room="Salle de formation", trainer=emilie, module=posture, capacity=4,
                         description=POSTURE_TEXT, what_to_bring=POSTURE_BRING)
    agenda.enrol(after, [olivier, fatima])

    agenda.series(EventKind.BOOKING, "Permanence de la conseillère France Travail", FRI, "09:00", "12:00",
                  every_weeks=2, room="Bureau d'accueil",
                  description="Rendez-vous individuels pris par France Travail.")
    for week in (-9, -1, 5):
        agenda.event(EventKind.BOOKING, "Réunion partenaires — Mission locale et CCAS", week, THU,
                     "09:30", "11:30", room="Salle de formation")


def seed_roubaix(agenda: DemoAgenda, posture: Module) -> None:
    mairie, alma = "Hôtel de ville — salle numérique", "Médiathèque de l'Alma"
    agenda.room(mairie, "Salle numérique", 12,
                [Equipment.COMPUTERS, Equipment.PROJECTOR, Equipment.WIFI, Equipment.PRINTER,
                 Equipment.WHEELCHAIR_ACCESS, Equipment.HEARING_LOOP])
    agenda.room(mairie, "Salle de réunion du 1er étage", 20, [Equipment.PROJECTOR, Equipment.WIFI,
                                                               Equipment.HEARING_LOOP], hours=())
    agenda.room(alma, "Espace multimédia", 8, [Equipment.COMPUTERS, Equipment.WIFI, Equipment.WHEELCHAIR_ACCESS],
                tuple((d, "13:30", "18:00") for d in range(TUE, SAT)) + ((WED, "10:00", "12:30"),
                                                                         (SAT, "10:00", "12:30")))
    agenda.kit(TABLETS, "Huit tablettes, prêtées par la médiathèque pour les ateliers.")
    agenda.kit(ROUTER, "Point d'accès Wi-Fi 4G de la mairie.")
    first, last = _christmas_holidays(agenda.today)
    agenda.close(site=alma, starts_on=first, ends_on=last, reason="Vacances de Noël : médiathèque fermée")
    agenda.close_public_holidays()

    camille, pierre, nathalie, hugo, samira = (agenda.person(f"benevole{i}") for i in range(1, 6))
    youssef = agenda.trainer

    town_hall = agenda.series(
        EventKind.SHIFT, "Permanence numérique de l'hôtel de ville", MON, "09:30", "12:00",
        room="Salle numérique", capacity=2,
        description="Aide aux démarches en ligne et à l'usage de l'ordinateur, sans rendez-vous, à l'accueil "
                    "de la mairie.",
    )
    coming = [e for e in town_hall if not agenda.is_past(e)]
    agenda.enrol(coming[3], [pierre])
    agenda.cancel(coming[3])  # the town hall's staff training day: the hall is closed to the public
    agenda.rota(town_hall, [camille, pierre, nathalie, hugo, samira], coming=(1, 2, 1, 2))

    library = agenda.series(
        EventKind.SHIFT, "Permanence numérique à la médiathèque", SAT, "10:00", "12:30", every_weeks=2,
        room="Espace multimédia", capacity=2,
        description="Le samedi matin, pour celles et ceux qui travaillent en semaine.",
    )
    agenda.rota(library, [samira, hugo, camille], coming=(1, 1, 0))

    for index, event in enumerate(agenda.series(
        EventKind.WORKSHOP, "Atelier : ameli et CAF, vos comptes en ligne", WED, "14:00", "16:00", nth_of_month=1,
        room="Espace multimédia", capacity=8,
        description="Créer son compte ameli et son compte CAF, télécharger une attestation, déclarer ses "
                    "ressources.",
        what_to_bring="Votre carte Vitale, votre numéro d'allocataire et votre téléphone portable.",
    )):
        if agenda.is_past(event):
            agenda.mark(event, agenda.enrol(event, [nathalie, camille]))
        elif index % 2 == 0:
            agenda.enrol(event, [nathalie])

    before = agenda.event(EventKind.TRAINING_SESSION, POSTURE_SESSION, -2, FRI, "14:00", "17:00",
                          room="Salle numérique", trainer=youssef, module=posture, capacity=6,
                          description=POSTURE_TEXT, what_to_bring=POSTURE_BRING)
    agenda.mark(before, agenda.enrol(before, [nathalie, hugo, samira]), by=youssef,
                overrides={"benevole3": Attendance.PRESENT, "benevole4": Attendance.ABSENT,
                           "benevole5": Attendance.EXCUSED})
    after = agenda.event(EventKind.TRAINING_SESSION, POSTURE_SESSION, 2, FRI, "14:00", "17:00",
                         room="Salle numérique", trainer=youssef, module=posture, capacity=6,
                         description=POSTURE_TEXT, what_to_bring=POSTURE_BRING)
    agenda.enrol(after, [hugo, samira])

    for week in (-6, -1, 3):
        outing = agenda.event(
            EventKind.WORKSHOP, "Atelier hors les murs — centre social du Fresnoy", week, TUE, "14:00", "16:00",
            kits=[TABLETS, ROUTER], capacity=8,
            description="Découverte de la tablette et des services en ligne, au centre social.",
        )
        agenda.mark(outing, agenda.enrol(outing, [camille, pierre]))

    agenda.series(EventKind.BOOKING, "Réunion de l'équipe des bénévoles", THU, "18:00", "19:30", every_weeks=4,
                  room="Salle de réunion du 1er étage")
    agenda.event(EventKind.BOOKING, "Formation des agents d'accueil (service des ressources humaines)", 1, WED,
                 "09:00", "12:00", room="Salle numérique")


def seed_scheduling_demo(tenants: dict[str, Tenant], *, now: datetime) -> None:
    """Add rooms, kits, closures and an agenda (past three months, next eight
    weeks) to the demo structures built by ``volunteer_platform.demo``; needs
    the training demo (the posture module, the qualifications, who holds them)."""
    last_email = db.session.scalar(select(func.max(OutboxEmail.id))) or 0
    posture = _posture_module()
    demarches = _qualification(DEMARCHES_NAME)
    seed_bethune(DemoAgenda(tenants["ccas-bethune"], now=now), posture, demarches)
    seed_lens(DemoAgenda(tenants["passerelle-lens"], now=now), posture, demarches)
    seed_roubaix(DemoAgenda(tenants["mairie-roubaix"], now=now), posture)
    db.session.execute(OutboxEmail.__table__.delete().where(OutboxEmail.id > last_email))
    db.session.flush()
