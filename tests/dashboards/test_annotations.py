"""Timeline notes: saving, who may change them, which charts show them, and the markers."""

from __future__ import annotations

import datetime as dt
import json

import pytest
import time_machine

from smarketing.dashboards.annotations import AnnotationError, annotation_save, annotations_for
from smarketing.dashboards.figures import annotate
from smarketing.dashboards.models import Annotation
from smarketing.digests.compose import _note_marks
from smarketing.kpis.services import facts_rebuild
from tests.kpis.builders import campaign, contact

pytestmark = pytest.mark.django_db

D = dt.date.fromisoformat


@pytest.mark.parametrize(("fields", "field", "words"), [
    ({"day": ""}, "day", "is needed"),
    ({"day": "12/03/2026"}, "day", "YYYY-MM-DD"),
    ({"end_day": "2026-03-01"}, "end_day", "before the day 2026-03-12"),
    ({"text": "  "}, "text", "write what happened"),
    ({"text": "x" * 301}, "text", "301 characters"),
    ({"channel": "fax"}, "channel", "not one of"),
    ({"campaign": "nope"}, "campaign", "no campaign 'nope'"),
    ({"channel": "email", "campaign": "c1"}, "channel", "not both"),
])
def test_bad_notes_name_the_field_and_write_nothing(user, fields, field, words):
    campaign("c1", "Spring")
    with pytest.raises(AnnotationError) as caught:
        annotation_save(author=user, **{"day": "2026-03-12", "text": "Pricing page changed", **fields})
    assert caught.value.field == field and words in caught.value.message
    assert not Annotation.objects.exists()


def test_only_the_author_and_data_managers_change_a_note(user, data_manager, django_user_model):
    note = annotation_save(author=user, day="2026-03-12", text="Pricing page changed")
    other = django_user_model.objects.create_user(username="other", password="other-pass-123")
    with pytest.raises(AnnotationError):
        annotation_save(author=other, annotation=note, day="2026-03-12", text="vandalised")
    annotation_save(author=data_manager, annotation=note, day="2026-03-13", text="Pricing page changed (v2)")
    note.refresh_from_db()
    assert (note.day, note.text, note.author) == (D("2026-03-13"), "Pricing page changed (v2)", user)


def test_a_chart_shows_notes_in_its_window_and_scope_and_campaign_starts(user):
    spring = campaign("c-spring", "Spring launch", channel="paid_search")
    spring.start_date = D("2026-03-05")
    spring.save()
    annotation_save(author=user, day="2026-03-12", text="Pricing page changed")
    annotation_save(author=user, day="2026-02-20", end_day="2026-03-02", text="Holiday freeze")
    annotation_save(author=user, day="2026-03-03", text="Email outage", channel="email")
    annotation_save(author=user, day="2026-04-01", text="Next month")
    window = {"start": D("2026-03-01"), "end": D("2026-03-31")}
    everything = [(n["day"], n["text"], n["auto"]) for n in annotations_for(**window)]
    assert everything == [(D("2026-02-20"), "Holiday freeze", False), (D("2026-03-03"), "Email outage", False),
                          (D("2026-03-05"), "Spring launch starts", True),
                          (D("2026-03-12"), "Pricing page changed", False)]
    paid = [n["text"] for n in annotations_for(**window, filters={"channel": ["paid_search"]})]
    assert paid == ["Holiday freeze", "Pricing page changed"]  # the email note is out of scope
    email = [n["text"] for n in annotations_for(**window, filters={"channel": ["email"]})]
    assert email == ["Holiday freeze", "Email outage", "Pricing page changed"]
    by_campaign = [n["text"] for n in annotations_for(**window, filters={"campaign": ["c-spring"]})]
    assert by_campaign == ["Holiday freeze", "Spring launch starts", "Pricing page changed"]


def test_markers_are_a_line_for_a_day_and_a_band_for_a_period():
    figure = annotate({"data": [], "layout": {"margin": {"t": 8}}}, [
        {"day": D("2026-03-12"), "end": None, "text": "Pricing page changed", "scope": "", "auto": False},
        {"day": D("2026-03-01"), "end": D("2026-03-04"), "text": "Freeze", "scope": "Email", "auto": False},
    ])
    line, band = figure["layout"]["shapes"]
    assert (line["type"], line["x0"], line["x1"]) == ("line", "2026-03-12", "2026-03-12")
    assert (band["type"], band["x0"], band["x1"]) == ("rect", "2026-03-01", "2026-03-04")
    labels = figure["layout"]["annotations"]
    assert [label["hovertext"] for label in labels] == ["2026-03-12: Pricing page changed", "2026-03-01: Freeze (Email)"]
    assert figure["layout"]["margin"]["t"] == 22


def test_the_dashboard_series_shows_a_new_note_at_once(signed_in_client, user):
    with time_machine.travel(dt.datetime(2026, 3, 15, 12, tzinfo=dt.UTC), tick=False):
        contact("a", "2026-03-02 10:00")
        facts_rebuild()
        url = "/dashboards/shared/?window=mtd"
        signed_in_client.get(url)  # cached before the note exists
        response = signed_in_client.post("/dashboards/notes/", {"day": "2026-03-10", "text": "Webinar week",
                                                                "next": url})
        assert response.status_code == 302 and response["Location"] == url
        page = signed_in_client.get(url)
    series = next(p for p in page.context["panels"] if p["kind"] == "series")
    figure = series["charts"][0]["figure"]
    assert [shape["x0"] for shape in figure["layout"]["shapes"]] == ["2026-03-10"]
    assert "Webinar week" in json.dumps(figure)
    assert Annotation.objects.get().author == user
    # Deleted where no view of ours runs (the admin deletes the object itself): gone at once too.
    Annotation.objects.get().delete()
    with time_machine.travel(dt.datetime(2026, 3, 15, 12, tzinfo=dt.UTC), tick=False):
        page = signed_in_client.get(url)
    series = next(p for p in page.context["panels"] if p["kind"] == "series")
    assert "Webinar week" not in json.dumps(series["charts"][0]["figure"])


def test_a_bad_note_from_the_chart_says_why(signed_in_client):
    response = signed_in_client.post("/dashboards/notes/", {"day": "2026-03-10", "end_day": "2026-03-01",
                                                            "text": "x", "next": "/dashboards/shared/"},
                                     follow=True)
    assert "end day: 2026-03-01 is before the day 2026-03-10" in response.content.decode()
    assert not Annotation.objects.exists()


def test_the_notes_page_offers_edit_only_where_allowed(signed_in_client, user, django_user_model):
    other = django_user_model.objects.create_user(username="other", password="other-pass-123")
    mine = annotation_save(author=user, day="2026-03-12", text="Mine")
    theirs = annotation_save(author=other, day="2026-03-13", text="Theirs")
    page = signed_in_client.get("/dashboards/notes/").content.decode()
    assert f"/dashboards/notes/{mine.pk}/" in page and f"/dashboards/notes/{theirs.pk}/" not in page
    signed_in_client.post(f"/dashboards/notes/{theirs.pk}/", {"delete": "1"})
    assert Annotation.objects.filter(pk=theirs.pk).exists()
    signed_in_client.post(f"/dashboards/notes/{mine.pk}/", {"delete": "1"})
    assert not Annotation.objects.filter(pk=mine.pk).exists()


def test_digest_marks_land_in_the_week_holding_the_day():
    weeks = [{"start": D("2026-03-02"), "end": D("2026-03-08")}, {"start": D("2026-03-09"), "end": D("2026-03-15")}]
    notes = [{"day": D("2026-03-09"), "text": "Launch"}, {"day": D("2026-03-08"), "text": "Sunday"},
             {"day": D("2026-03-16"), "text": "Later"}]
    assert _note_marks(weeks, notes) == [(1, "Launch"), (0, "Sunday")]


def test_marks_stay_inside_the_window_and_crowded_notes_keep_only_their_mark():
    notes = [
        # a freeze from before the window to well after it: drawn over the window only
        {"day": D("2025-12-20"), "end": D("2027-01-31"), "text": "Freeze", "scope": "", "auto": False},
        {"day": D("2026-03-01"), "end": None, "text": "Spring launch starts", "scope": "Spring", "auto": True},
        # a 100-day window: a label needs 25 days of room; 30 days after the last one, labelled
        {"day": D("2026-03-31"), "end": None, "text": "Webinar", "scope": "", "auto": False},
        # 5 days after the last label: only its line, the note itself on hover
        {"day": D("2026-04-05"), "end": None, "text": "Summit starts", "scope": "Summit", "auto": True},
    ]
    figure = annotate({"data": [], "layout": {"xaxis": {"type": "date"}}}, notes,
                      start=D("2026-01-01"), end=D("2026-04-11"))
    band = figure["layout"]["shapes"][0]
    assert (band["x0"], band["x1"]) == ("2026-01-01", "2026-04-11")
    labels = figure["layout"]["annotations"]
    # labels are cut to 16 characters: "Spring launch starts" → "Spring launch s…"
    assert [label["text"] for label in labels] == ["✎ Freeze", "✎ Spring launch s…", "✎ Webinar", " "]
    assert labels[0]["hovertext"] == "2025-12-20: Freeze"  # the note's own dates on hover
    assert labels[3]["hovertext"] == "2026-04-05: Summit starts"
    # The axis stays on the window (2 % of its 100 days each side), whatever the labels' width.
    assert figure["layout"]["xaxis"] == {"type": "date", "range": ["2025-12-30", "2026-04-13"]}


def test_a_persons_note_keeps_its_label_beside_a_campaign_start_just_before_it():
    notes = [
        {"day": D("2026-11-10"), "end": None, "text": "Webinar week starts", "scope": "Webinar", "auto": True},
        # 5 days later in a 30-day window (labels need 7.5 days): the person's note is labelled,
        # the campaign start keeps its line and hover
        {"day": D("2026-11-15"), "end": None, "text": "Pricing page changed", "scope": "", "auto": False},
        # 8 days after the person's note: room again for an automatic label
        {"day": D("2026-11-23"), "end": None, "text": "Q4 push starts", "scope": "Q4", "auto": True},
    ]
    figure = annotate({"data": [], "layout": {"xaxis": {"type": "date"}}}, notes,
                      start=D("2026-11-01"), end=D("2026-12-01"))
    assert [label["text"] for label in figure["layout"]["annotations"]] == [
        " ", "✎ Pricing page ch…", "✎ Q4 push starts"]
    assert len(figure["layout"]["shapes"]) == 3  # every note keeps its line
