# Four changes made side by side (slice targets, lead types, import mappings, the job sweep)
# each added a migration after 0003; this joins them.
from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('funnel', '0004_contact_lead_type_disqualification_spend_paid_media'),
        ('funnel', '0004_import_mapping_history'),
        ('funnel', '0004_importjob_queued_at'),
        ('funnel', '0004_target_slices'),
    ]

    operations = []
