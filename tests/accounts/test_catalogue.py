"""Every text people read goes through the translation machinery and has a Chinese translation.

`makemessages` runs on a copy of the sources: any string marked in code, templates or scripts
that the committed catalogue lacks, has no translation for, or holds as fuzzy fails the test.
Templates are also scanned for text left outside {% translate %} / {% blocktranslate %}, which
makemessages cannot see; registry labels and help, dimension and enum labels must be lazy
translations (a plain str was never marked)."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.utils.functional import Promise
from django.utils.translation import override

from smarketing.dashboards.layouts import DASHBOARDS
from smarketing.funnel import models as funnel
from smarketing.kpis.registry import DIMENSION_LABELS, METRICS
from smarketing.kpis.windows import COMPARISON_LABELS, WINDOW_LABELS
from tests.accounts.english import text_and_attributes

ROOT = Path(settings.BASE_DIR)
CATALOGUES = ("django", "djangojs")
PO_ENTRY = re.compile(r'(?ms)^(#, (?P<flags>[^\n]*)\n)?(msgctxt "(?P<ctx>[^\n]*)"\n)?msgid (?P<id>(?:"[^\n]*"\n)+)'
                      r'(msgid_plural (?:"[^\n]*"\n)+)?(?P<strs>(?:msgstr(?:\[\d\])? (?:"[^\n]*"\n?)+)+)')


def _joined(quoted: str) -> str:
    return "".join(re.findall(r'"((?:[^"\\]|\\.)*)"', quoted))


def problems_of(po_text: str) -> list[str]:
    """msgids with no translation, or a fuzzy one."""
    found = []
    for match in PO_ENTRY.finditer(po_text):
        msgid = _joined(match["id"])
        if not msgid:
            continue
        strings = [_joined(part) for part in re.split(r"msgstr(?:\[\d\])? ", match["strs"])[1:]]
        if "fuzzy" in (match["flags"] or "") or not all(strings):
            found.append(msgid)
    return found


@pytest.fixture(scope="module")
def fresh_catalogues(tmp_path_factory) -> dict[str, str]:
    """The catalogues as makemessages leaves them after reading today's sources, in a copy."""
    copy = tmp_path_factory.mktemp("sources")
    for name in ("smarketing", "templates", "locale"):
        shutil.copytree(ROOT / name, copy / name, ignore=shutil.ignore_patterns("__pycache__", "*.mo"))
    (copy / "static").mkdir()
    shutil.copytree(ROOT / "static" / "js", copy / "static" / "js")
    shutil.copy(ROOT / "manage.py", copy / "manage.py")
    for domain in CATALOGUES:
        subprocess.run([sys.executable, "manage.py", "makemessages", "--locale", "zh_Hans", "--domain", domain,
                        "--no-obsolete", "--no-location"], cwd=copy, check=True, capture_output=True)
    return {domain: (copy / "locale" / "zh_Hans" / "LC_MESSAGES" / f"{domain}.po").read_text()
            for domain in CATALOGUES}


@pytest.mark.parametrize("domain", CATALOGUES)
def test_every_marked_string_has_a_chinese_translation(fresh_catalogues, domain):
    assert problems_of(fresh_catalogues[domain]) == []


def test_the_check_catches_an_untranslated_entry():
    po = 'msgid "Leads"\nmsgstr "线索"\n\n#, fuzzy\nmsgid "Revenue"\nmsgstr "收"\n\nmsgid "New"\nmsgstr ""\n'
    assert problems_of(po) == ["Revenue", "New"]


# --- templates: text outside the translation tags ----------------------------------------
# Words a template may show as they are: product and format names, and syntax.
TEMPLATE_KEPT = {"smarketing", "SLA", "CSV", "XLSX", "API", "HTTP", "nbsp", "rarr", "middot", "amp", "lt", "gt"}
TAG_BLOCK = re.compile(r"(?s)\{%\s*(blocktranslate|blocktrans|comment)\b.*?\{%\s*end\1\s*%\}")


def unmarked_template_text(source: str) -> list[str]:
    """Latin words a reader would see that are not inside a translation tag."""
    text = TAG_BLOCK.sub(" ", source)
    # CSS class names the page's <body> carries.
    text = re.sub(r"(?s)\{%\s*block body_class\s*%\}.*?\{%\s*endblock\s*%\}", " ", text)
    text = re.sub(r"(?s)\{%.*?%\}|\{\{.*?\}\}|\{#.*?#\}", " ", text)
    text = re.sub(r"(?is)<(style|script)\b.*?</\1>", " ", text)
    text = re.sub(r"(?is)<code\b.*?</code>", " ", text)
    text = text_and_attributes(text)
    return [word for word in re.findall(r"[A-Za-z][A-Za-z']+", text) if word not in TEMPLATE_KEPT]


def test_templates_show_no_text_outside_translation_tags():
    left = {}
    for path in sorted((ROOT / "templates").rglob("*")):
        if path.suffix in (".html", ".txt"):
            words = unmarked_template_text(path.read_text())
            if words:
                left[str(path.relative_to(ROOT))] = words
    assert left == {}


def test_the_template_scan_catches_unmarked_text():
    assert unmarked_template_text('<h2>Needs attention</h2><p title="Why">{% translate "Fine" %}</p>') == \
        ["Needs", "attention", "Why"]
    assert unmarked_template_text('{% blocktranslate %}All {{ n }} rows{% endblocktranslate %}<b>{{ x }}</b>') == []


# --- labels declared in code ---------------------------------------------------------------


def test_registry_labels_and_help_are_marked_and_read_in_chinese():
    for metric in METRICS.values():
        assert isinstance(metric.label, Promise), metric.key
        assert isinstance(metric.help, Promise), metric.key
    with override("zh-hans"):
        assert str(METRICS["mqls"].label) == "市场认可线索 (MQL)"
        assert str(METRICS["win_rate"].label) == "赢单率"
        assert "窗口期" in str(METRICS["lead_to_mql_rate"].help)
        chinese = {key: str(metric.help) for key, metric in METRICS.items()}
    with override("en"):
        english = {key: str(metric.help) for key, metric in METRICS.items()}
    assert [key for key in METRICS if chinese[key] == english[key]] == []


def test_dimension_window_enum_and_dashboard_labels_are_marked():
    labels = [*DIMENSION_LABELS.values(), *WINDOW_LABELS.values(), *COMPARISON_LABELS.values()]
    for enum in (funnel.Channel, funnel.Offer, funnel.DisqualificationReason, funnel.ActivityType, funnel.Role):
        labels += [label for _value, label in enum.choices]
    for dashboard in DASHBOARDS.values():
        labels += [dashboard.title, dashboard.description, *(panel.title for panel in dashboard.panels)]
    assert [label for label in labels if not isinstance(label, Promise)] == []
