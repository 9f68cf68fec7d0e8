"""The pure iCal builder: VTIMEZONEs against the real daylight-saving dates,
UNTIL in UTC, and documents parsed back with the icalendar library."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import recurring_ical_events
from dateutil.rrule import rrulestr
from icalendar import Calendar, Timezone

from volunteer_platform.calendars import ical
from volunteer_platform.calendars.ical import CalendarEvent, CalendarFeed, CalendarSeries

CHANGED = datetime(2026, 9, 1, 8, 30, 15, tzinfo=UTC)


def _offsets_match(zone_name: str, vtimezone: Timezone, start: datetime, end: datetime) -> list[datetime]:
    """The half-hours where the VTIMEZONE (read by icalendar/dateutil, not by
    name) and zoneinfo disagree."""
    from_vtimezone = Timezone.from_ical(vtimezone.to_ical()).to_tz(lookup_tzid=False)
    real = ZoneInfo(zone_name)
    wrong = []
    moment = start
    while moment < end:
        if moment.astimezone(from_vtimezone).utcoffset() != moment.astimezone(real).utcoffset():
            wrong.append(moment)
        moment += timedelta(minutes=30)
    return wrong


def test_paris_vtimezone_gives_the_real_offset_every_half_hour():
    tz = ical.vtimezone("Europe/Paris", 2025, 2027)
    # Years beyond the last one asked for too: the yearly rules are open-ended.
    wrong = _offsets_match("Europe/Paris", tz, datetime(2025, 1, 1, tzinfo=UTC),
                           datetime(2029, 1, 1, tzinfo=UTC))
    assert wrong == []


def test_paris_vtimezone_changes_on_the_last_sundays_of_march_and_october_2026():
    tz = Timezone.from_ical(ical.vtimezone("Europe/Paris", 2026, 2026).to_ical())
    assert str(tz["TZID"]) == "Europe/Paris"

    def onset(component_name: str, year: int) -> datetime:
        (component,) = [c for c in tz.walk(component_name) if "RRULE" in c]
        rule = rrulestr(component["RRULE"].to_ical().decode(), dtstart=component["DTSTART"].dt)
        return next(d for d in rule if d.year == year)

    summer, winter = onset("DAYLIGHT", 2026), onset("STANDARD", 2026)
    # Local time before the change, as RFC 5545 reads DTSTART (in TZOFFSETFROM).
    assert summer == datetime(2026, 3, 29, 2, 0)
    assert winter == datetime(2026, 10, 25, 3, 0)
    for day in (summer, winter):
        assert day.weekday() == 6 and (day + timedelta(days=7)).month != day.month  # the last Sunday
    daylight = next(c for c in tz.walk("DAYLIGHT") if "RRULE" in c)
    assert daylight["TZOFFSETFROM"].to_ical() == "+0100" and daylight["TZOFFSETTO"].to_ical() == "+0200"
    assert str(daylight["TZNAME"]) == "CEST"
    # The change really happens then: 01:00 UTC both times.
    paris = ZoneInfo("Europe/Paris")
    assert datetime(2026, 3, 29, 0, 59, tzinfo=UTC).astimezone(paris).utcoffset() == timedelta(hours=1)
    assert datetime(2026, 3, 29, 1, 0, tzinfo=UTC).astimezone(paris).utcoffset() == timedelta(hours=2)
    assert datetime(2026, 10, 25, 1, 0, tzinfo=UTC).astimezone(paris).utcoffset() == timedelta(hours=1)


@pytest.mark.parametrize("zone", ["Indian/Reunion", "America/Cayenne", "Pacific/Noumea", "America/Miquelon",
                                  "Europe/Brussels"])
def test_vtimezones_of_other_french_speaking_zones_are_right(zone):
    tz = ical.vtimezone(zone, 2026, 2027)
    assert _offsets_match(zone, tz, datetime(2026, 1, 1, tzinfo=UTC),
                          datetime(2028, 1, 1, tzinfo=UTC)) == []


def test_a_zone_without_daylight_saving_has_one_observance():
    tz = Timezone.from_ical(ical.vtimezone("Indian/Reunion", 2026, 2026).to_ical())
    observances = [c for c in tz.subcomponents]
    assert len(observances) == 1
    assert observances[0]["TZOFFSETFROM"].to_ical() == observances[0]["TZOFFSETTO"].to_ical() == "+0400"


@pytest.mark.parametrize("stored, exported", [
    # winter: 23:59:59 in Paris is 22:59:59 UTC
    ("FREQ=WEEKLY;INTERVAL=1;BYDAY=TU;UNTIL=20261201T235959", "FREQ=WEEKLY;INTERVAL=1;BYDAY=TU;UNTIL=20261201T225959Z"),
    # summer: 21:59:59 UTC
    ("FREQ=WEEKLY;INTERVAL=2;BYDAY=MO;UNTIL=20260629T235959", "FREQ=WEEKLY;INTERVAL=2;BYDAY=MO;UNTIL=20260629T215959Z"),
    # a date alone means the end of that local day
    ("FREQ=MONTHLY;INTERVAL=1;BYDAY=+1TU;UNTIL=20260707", "FREQ=MONTHLY;INTERVAL=1;BYDAY=+1TU;UNTIL=20260707T215959Z"),
    # COUNT and rules already in UTC are kept
    ("FREQ=WEEKLY;INTERVAL=1;BYDAY=TU;COUNT=10", "FREQ=WEEKLY;INTERVAL=1;BYDAY=TU;COUNT=10"),
    ("FREQ=WEEKLY;BYDAY=TU;UNTIL=20261201T225959Z", "FREQ=WEEKLY;BYDAY=TU;UNTIL=20261201T225959Z"),
])
def test_until_is_written_in_utc(stored, exported):
    assert ical.rrule_for_export(stored, "Europe/Paris") == exported


def _event(**fields) -> CalendarEvent:
    values = dict(
        uid="evt-1@aidants-numeriques", summary="Atelier : créer son adresse e-mail", start=datetime(2026, 10, 20, 14),
        end=datetime(2026, 10, 20, 16), timezone="Europe/Paris", changed_at=CHANGED, sequence=2,
        created_at=CHANGED - timedelta(days=3),
        location="Salle informatique, Maison des services, 12 rue de la République, 62400 Béthune",
        description="Venez avec votre téléphone.\n\nÀ apporter : une pièce d'identité, le code de votre "
                    "messagerie et beaucoup de patience pour une ligne très longue qui doit être pliée",
        url="https://example.org/structure-a/agenda/events/1", categories=("Atelier numérique",),
    )
    values.update(fields)
    return CalendarEvent(**values)


def _feed(**fields) -> CalendarFeed:
    values = dict(name="Structure A — ateliers numériques", timezone="Europe/Paris", events=(_event(),))
    values.update(fields)
    return CalendarFeed(**values)


def test_a_document_has_every_required_property_and_parses_back():
    data = ical.build_calendar(_feed())
    cal = Calendar.from_ical(data)
    assert str(cal["VERSION"]) == "2.0"
    assert str(cal["PRODID"]) == ical.PRODID
    assert str(cal["METHOD"]) == "PUBLISH"
    assert str(cal["X-WR-CALNAME"]) == str(cal["NAME"]) == "Structure A — ateliers numériques"
    assert str(cal["X-WR-TIMEZONE"]) == "Europe/Paris"
    assert b"\r\nREFRESH-INTERVAL;VALUE=DURATION:PT1H\r\n" in data
    assert b"\r\nX-PUBLISHED-TTL:PT1H\r\n" in data
    (event,) = cal.walk("VEVENT")
    assert str(event["UID"]) == "evt-1@aidants-numeriques"
    assert event["DTSTART"].params["TZID"] == "Europe/Paris"
    assert event["DTSTART"].dt == datetime(2026, 10, 20, 14, tzinfo=ZoneInfo("Europe/Paris"))
    assert event["DTEND"].dt == datetime(2026, 10, 20, 16, tzinfo=ZoneInfo("Europe/Paris"))
    assert event["DTSTAMP"].dt == event["LAST-MODIFIED"].dt == CHANGED
    assert event["SEQUENCE"] == 2
    assert str(event["STATUS"]) == "CONFIRMED"
    assert str(event["LOCATION"]).startswith("Salle informatique, Maison des services")
    assert "À apporter : une pièce d'identité" in str(event["DESCRIPTION"])
    assert str(event["URL"]) == "https://example.org/structure-a/agenda/events/1"
    assert cal.get_used_tzids() == {"Europe/Paris"}
    assert cal.get_missing_tzids() == set()


def test_lines_end_with_crlf_and_long_ones_are_folded():
    data = ical.build_calendar(_feed())
    assert data.endswith(b"\r\n")
    lines = data.split(b"\r\n")[:-1]
    assert all(b"\n" not in line and b"\r" not in line for line in lines)
    assert all(len(line) <= 75 for line in lines)  # octets, as RFC 5545 counts
    assert any(line.startswith(b" ") for line in lines)  # the description was folded…
    description = str(Calendar.from_ical(data).walk("VEVENT")[0]["DESCRIPTION"])
    assert description.endswith("une ligne très longue qui doit être pliée")  # …and unfolds whole


def test_no_floating_times_every_date_time_has_a_zone():
    data = ical.build_calendar(_feed(series=(CalendarSeries(
        master=_event(uid="series-1"), rrule="FREQ=WEEKLY;INTERVAL=1;BYDAY=TU;COUNT=4",
        exdates=(datetime(2026, 10, 27, 14),),
        overrides=(_event(uid="series-1", recurrence_id=datetime(2026, 11, 3, 14), start=datetime(2026, 11, 3, 15),
                          end=datetime(2026, 11, 3, 17)),),
    ),)))
    unfolded = data.replace(b"\r\n ", b"").decode()
    in_event = False
    checked = 0
    for line in unfolded.split("\r\n"):  # (a VTIMEZONE's own times are local by definition)
        in_event = (in_event or line == "BEGIN:VEVENT") and line != "END:VEVENT"
        if in_event and re.search(r"[:,]\d{8}T\d{6}", line):
            checked += 1
            assert ";TZID=Europe/Paris:" in line or re.search(r"\d{8}T\d{6}Z$", line), line
    assert checked >= 12  # DTSTART, DTEND, DTSTAMP, LAST-MODIFIED, CREATED… of both events, EXDATE, RECURRENCE-ID


def test_same_data_same_bytes():
    assert ical.build_calendar(_feed()) == ical.build_calendar(_feed())


def test_cancelled_events_say_so():
    cal = Calendar.from_ical(ical.build_calendar(_feed(events=(_event(is_cancelled=True, sequence=3),))))
    (event,) = cal.walk("VEVENT")
    assert str(event["STATUS"]) == "CANCELLED" and event["SEQUENCE"] == 3


def test_a_series_is_one_rrule_with_exdates_and_overrides_in_its_zone():
    master = _event(uid="series-1", start=datetime(2026, 10, 13, 14), end=datetime(2026, 10, 13, 16))
    series = CalendarSeries(
        master=master, rrule="FREQ=WEEKLY;INTERVAL=1;BYDAY=TU;UNTIL=20261117T235959",
        exdates=(datetime(2026, 10, 27, 14),),
        overrides=(replace_event(master, recurrence_id=datetime(2026, 11, 3, 14), start=datetime(2026, 11, 3, 15),
                                 end=datetime(2026, 11, 3, 17), sequence=3),),
    )
    cal = Calendar.from_ical(ical.build_calendar(_feed(events=(), series=(series,))))
    master_c, override_c = cal.walk("VEVENT")
    assert master_c["RRULE"]["UNTIL"][0] == datetime(2026, 11, 17, 22, 59, 59, tzinfo=UTC)
    assert master_c["EXDATE"].params["TZID"] == "Europe/Paris"
    assert master_c["EXDATE"].dts[0].dt == datetime(2026, 10, 27, 14, tzinfo=ZoneInfo("Europe/Paris"))
    assert str(override_c["UID"]) == "series-1"
    assert override_c["RECURRENCE-ID"].params["TZID"] == "Europe/Paris"
    starts = [e["DTSTART"].dt for e in recurring_ical_events.of(cal).between(date(2026, 10, 1), date(2026, 12, 1))]
    paris = ZoneInfo("Europe/Paris")
    assert sorted(starts) == [datetime(2026, 10, 13, 14, tzinfo=paris), datetime(2026, 10, 20, 14, tzinfo=paris),
                              datetime(2026, 11, 3, 15, tzinfo=paris), datetime(2026, 11, 10, 14, tzinfo=paris),
                              datetime(2026, 11, 17, 14, tzinfo=paris)]


def replace_event(item: CalendarEvent, **changes) -> CalendarEvent:
    from dataclasses import replace

    return replace(item, **changes)


def test_an_empty_feed_still_has_a_component():
    cal = Calendar.from_ical(ical.build_calendar(_feed(events=())))
    assert [c.name for c in cal.subcomponents] == ["VTIMEZONE"]
    assert str(cal.subcomponents[0]["TZID"]) == "Europe/Paris"
