import importlib

import django.db.models.deletion
from django.db import migrations, models


def clear_tokens(apps, schema_editor):
    # Name keys are derived data: they are dropped here and rebuilt below with their site.
    apps.get_model("patients", "PatientNameToken").objects.all().delete()


def reindex(apps, schema_editor):
    importlib.import_module("caravane.patients.migrations.0003_search_pair_keys").reindex(apps, schema_editor)


class Migration(migrations.Migration):

    dependencies = [
        ("network", "0001_initial"),
        ("patients", "0003_search_pair_keys"),
    ]

    operations = [
        migrations.RunPython(clear_tokens, migrations.RunPython.noop),
        migrations.AddField(
            model_name="patientnametoken",
            name="site",
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name="+",
                                    to="network.site"),
            preserve_default=False,
        ),
        migrations.AddIndex(
            model_name="patientnametoken",
            index=models.Index(fields=["key", "site", "patient"], name="patient_name_token_site"),
        ),
        migrations.RunPython(reindex, migrations.RunPython.noop),
    ]
