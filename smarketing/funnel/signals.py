"""The one way `funnel` tells the rest of the project that records changed.

`kpis` listens to `records_changed` and recomputes the touched days; `funnel` does not
import anything from `kpis`.

Arguments sent:
- `resource`: the data-contract resource name (`"contacts"`, `"activities"`, ...);
- `days`: every company-time-zone date the change touched: every day field of each
  changed record, old values and new, unchanged ones included (a contact whose MQL day
  changed also names its lead day: its cohort's rates change);
- `days_by_field` (optional): the same days per day field of the records (`{"lead_on":
  [...], "mql_on": [...]}`), so a family keyed by one field rebuilds only that field's days;
- `contact_ids`: primary keys of the contacts whose records changed (contacts,
  deals, activities, touches), so cohort measures can be re-keyed by entry day.
"""

from django.dispatch import Signal

records_changed = Signal()
