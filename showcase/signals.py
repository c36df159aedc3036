"""What follows a change of the embedding origins, however it is made (the
admin, a bulk delete, the shell): the cached list is dropped, and so are the
cached embed pages, which name the origins their script may answer."""

from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from .cache import public_cache_bump
from .models import EmbedOrigin
from .selectors import embed_origins_forget


def _embed_origins_changed() -> None:
    embed_origins_forget()
    public_cache_bump()


@receiver(post_save, sender=EmbedOrigin, dispatch_uid="embed_origin_saved")
@receiver(post_delete, sender=EmbedOrigin, dispatch_uid="embed_origin_deleted")
def embed_origin_changed(sender, **kwargs):
    # After the commit, so no reader can put the old list back in the cache
    # from a transaction that has not ended; a cache that cannot be reached
    # must not undo the saved change.
    transaction.on_commit(_embed_origins_changed, robust=True)
