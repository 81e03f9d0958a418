"""The escalation schedule moves out of the case row into complaints_caseescalation (see
complaints/models_escalation.py): the table is created, the rows of every case with a next
look or a level copied into it (one INSERT … SELECT, on PostgreSQL and SQLite alike), then the
two columns and their indexes leave complaints_case. The indexes of the new table are built
after the copy."""

import django.db.models.deletion
from django.db import migrations, models

COPY = """
INSERT INTO complaints_caseescalation (case_id, next_at, level)
SELECT id, next_escalation_at, escalation_level FROM complaints_case
WHERE next_escalation_at IS NOT NULL OR escalation_level > 0
"""

COPY_BACK = """
UPDATE complaints_case SET
    next_escalation_at = (SELECT e.next_at FROM complaints_caseescalation e
                          WHERE e.case_id = complaints_case.id),
    escalation_level = (SELECT e.level FROM complaints_caseescalation e
                        WHERE e.case_id = complaints_case.id)
WHERE id IN (SELECT case_id FROM complaints_caseescalation)
"""


def copy(apps, schema_editor):
    schema_editor.execute(COPY)


def copy_back(apps, schema_editor):
    schema_editor.execute(COPY_BACK)


class Migration(migrations.Migration):

    dependencies = [
        ('complaints', '0021_subject_grams_index'),
    ]

    operations = [
        migrations.CreateModel(
            name='CaseEscalation',
            fields=[
                ('case', models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, primary_key=True, related_name='escalation', serialize=False, to='complaints.case', verbose_name='case')),
                ('next_at', models.DateTimeField(blank=True, null=True, verbose_name='next escalation check')),
                ('level', models.PositiveSmallIntegerField(default=0, verbose_name='escalation level')),
            ],
            options={
                'verbose_name': 'case escalation',
                'verbose_name_plural': 'case escalations',
            },
        ),
        migrations.RunPython(copy, copy_back),
        migrations.RemoveIndex(
            model_name='case',
            name='case_next_escalation_idx',
        ),
        migrations.RemoveIndex(
            model_name='case',
            name='case_escalated_idx',
        ),
        migrations.RemoveField(
            model_name='case',
            name='escalation_level',
        ),
        migrations.RemoveField(
            model_name='case',
            name='next_escalation_at',
        ),
        migrations.AddIndex(
            model_name='caseescalation',
            index=models.Index(condition=models.Q(('next_at__isnull', False)), fields=['next_at'], name='escalation_next_at_idx'),
        ),
        migrations.AddIndex(
            model_name='caseescalation',
            index=models.Index(condition=models.Q(('level__gte', 1)), fields=['level'], name='escalation_level_idx'),
        ),
    ]
