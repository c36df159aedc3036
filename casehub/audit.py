"""Append-only records: the audit logs of the workflow and the showcase."""

from django.db import models


class AppendOnlyQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise TypeError(f"{self.model.__name__} rows are append-only.")

    def delete(self):
        raise TypeError(f"{self.model.__name__} rows are append-only.")


class AppendOnlyModel(models.Model):
    """A row is written once: saving it again, or deleting it, is refused."""

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise TypeError(f"{type(self).__name__} rows are append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise TypeError(f"{type(self).__name__} rows are append-only.")
