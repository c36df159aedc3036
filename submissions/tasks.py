from pathlib import PurePosixPath

from celery import shared_task
from django.core.files.base import ContentFile

from casehub.images import thumbnail_bytes

from .models import Case

COVER_THUMBNAIL_SIZE = (480, 320)


@shared_task(autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def case_cover_thumbnail(case_id: int) -> None:
    """Make the list thumbnail of a case's cover; a rerun changes nothing."""
    case = (
        Case.objects.filter(pk=case_id).only("cover_image", "cover_thumbnail").first()
    )
    if case is None or not case.cover_image:
        return
    cover_name = case.cover_image.name
    thumb_name = f"{PurePosixPath(cover_name).stem}.jpg"
    if case.cover_thumbnail and case.cover_thumbnail.name.endswith(thumb_name):
        return
    with case.cover_image.open("rb") as source:
        data = thumbnail_bytes(source, size=COVER_THUMBNAIL_SIZE)
    field = Case._meta.get_field("cover_thumbnail")
    stored = field.storage.save(
        field.generate_filename(case, thumb_name), ContentFile(data)
    )
    # Only if the cover is still the one the thumbnail was made from; an
    # update() leaves the rest of a case someone may be editing untouched.
    Case.objects.filter(pk=case_id, cover_image=cover_name).update(
        cover_thumbnail=stored
    )
