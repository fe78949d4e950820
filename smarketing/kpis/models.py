"""Daily facts the KPI query reads, the days waiting for a recompute, and the recompute clock.

A fact is one number: a measure, on one company-time-zone day, for the total
(`dimension` "") or one value of one dimension, in one bucket (0 except for histograms).
A window sums facts over its days and divides once; stocks are stored as dated deltas
and summed over every day up to the window end. `FactMonth` holds the same facts summed by
calendar month, so a long window reads its whole months there and only the days at its
ends from `Fact`: the rows a window reads stop growing with its length; `FactLevel` holds
a stock's sum over all its days, so a stock stops growing with the history.
"""

from __future__ import annotations

from django.db import models

EMPTY = 1e-6  # a sum this close to zero is what is left of facts deleted one by one
# The sums left empty by a day's rebuild, deleted after it: a partial index holds only these
# rows, where the delete scanned every lag sum of the measures (0.5 s for a new day at 1M).
EMPTIED = models.Q(value__gt=-EMPTY, value__lt=EMPTY)


class _Summed(models.Model):
    """One summed number of a measure for the total (`dimension` "") or one key of a dimension;
    the subclasses add the days it covers."""

    measure = models.CharField(max_length=40)
    dimension = models.CharField(max_length=30, blank=True, default="")
    key = models.CharField(max_length=500, blank=True, default="")
    value = models.FloatField()

    class Meta:
        abstract = True


class Fact(_Summed):
    day = models.DateField()
    bucket = models.IntegerField(default=0)  # histogram bucket, or a same-age lag (facts.LAG_SCALE)

    class Meta:
        constraints = [
            # The grain is unique, and (on PostgreSQL) the index carries the value: a window's
            # sums are an index-only range scan per measure.
            models.UniqueConstraint(fields=["measure", "dimension", "day", "key", "bucket"], include=["value"],
                                    name="fact_grain"),
        ]

    def __str__(self) -> str:
        return f"{self.measure} {self.day} {self.dimension}={self.key}: {self.value}"


class FactMonth(_Summed):
    """The facts of one calendar month summed (`month` = its first day); kept equal to the
    sums of `Fact` by every rebuild, in the same transaction. Same-age lag facts are left
    out: they are read by cohort day and lag, never over whole months."""

    month = models.DateField()
    bucket = models.IntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["measure", "dimension", "month", "key", "bucket"], include=["value"],
                                    name="factmonth_grain"),
        ]

    def __str__(self) -> str:
        return f"{self.measure} {self.month:%Y-%m} {self.dimension}={self.key}: {self.value}"


class FactLevel(_Summed):
    """A stock's running level: every fact of the grain summed, whatever its day, and `since`,
    the day of its first fact. A stock up to a day is its level less the facts after that day
    (none for a window ending today), so what it reads does not grow with the history; a
    key is present up to a day when `since` is on or before it. Kept for the measures a
    metric reads up to a window's end (`facts.level_measures()`), by every rebuild, in the
    same transaction as the facts."""

    bucket = models.IntegerField(default=0)
    # NULL only inside a rebuild, between finding that a level has no fact left and deleting it.
    since = models.DateField(null=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["measure", "dimension", "key", "bucket"], include=["value", "since"],
                                    name="factlevel_grain"),
        ]

    def __str__(self) -> str:
        return f"{self.measure} since {self.since} {self.dimension}={self.key}: {self.value}"


class _LagSums(_Summed):
    """Same-age lag facts summed by cohort month (`month`) and by when they converted
    (`converted`): "converted on or before E for cohorts from S" is then whole months from
    `FactLagMonth`, E's month so far from `FactLagDay`, and only S's own month from the daily
    facts. `number` is the lag fact's attempt number (its bucket modulo LAG_SCALE)."""

    number = models.IntegerField(default=0)
    month = models.DateField()
    converted = models.DateField()

    class Meta:
        abstract = True


class FactLagMonth(_LagSums):
    """`converted` is the first day of the conversion month."""

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["measure", "dimension", "month", "converted", "key", "number"],
                                    include=["value"], name="factlagmonth_grain"),
        ]
        indexes = [models.Index(fields=["measure"], condition=EMPTIED, name="factlagmonth_emptied")]

    def __str__(self) -> str:
        return f"{self.measure} {self.month:%Y-%m}→{self.converted:%Y-%m} {self.dimension}={self.key}: {self.value}"


class FactLagDay(_LagSums):
    """`converted` is the conversion day; ordered by it first (a query reads one month of them)."""

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["measure", "dimension", "converted", "month", "key", "number"],
                                    include=["value"], name="factlagday_grain"),
        ]
        indexes = [models.Index(fields=["measure"], condition=EMPTIED, name="factlagday_emptied")]

    def __str__(self) -> str:
        return f"{self.measure} {self.month:%Y-%m}→{self.converted} {self.dimension}={self.key}: {self.value}"


class DirtyDay(models.Model):
    """A day whose facts of one family of measures must be rebuilt (marked by ingest)."""

    day = models.DateField()
    family = models.CharField(max_length=40)
    marked_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["day", "family"], name="dirtyday_key")]

    def __str__(self) -> str:
        return f"{self.family} {self.day}"


class FactsState(models.Model):
    """One row: when the facts last finished a recompute (the `facts_as_of` of every answer), and
    a version that moves with every recompute and every change of the records the query reads
    live (targets, names): what a cached answer is keyed by (`selectors.facts_version`)."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    facts_as_of = models.DateTimeField(null=True)
    full_rebuild_at = models.DateTimeField(null=True)
    # Targets, campaigns and team members have no facts: a change to them starts no recompute,
    # so facts_as_of alone cannot tell a cached page that its judgements or names are stale
    # (nor can it tell two recomputes apart that started within one tick of the clock).
    version = models.PositiveBigIntegerField(default=0)

    def __str__(self) -> str:
        return f"facts as of {self.facts_as_of}"
