"""Attachments of cases: scanned signature sheets, photos of the home visit, minutes."""

from __future__ import annotations

from pathlib import PurePath

from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils.translation import gettext as _

from shouwang.cases.choices import AttachmentKind
from shouwang.cases.models import Case, CaseAttachment, CaseTransition
from shouwang.core.audit import audit_record, household_subject, model_snapshot, stored_actor
from shouwang.core.choices import AuditAction
from shouwang.core.exceptions import ApplicationError, PermissionDenied
from shouwang.core.jurisdiction import REGISTRY_EDITORS, division_in_area, has_role
from shouwang.core.models import User

MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024
#: Extension → (the file's first bytes, the content type it is served with).
ALLOWED_TYPES: dict[str, tuple[tuple[bytes, ...], str]] = {
    ".jpg": ((b"\xff\xd8\xff",), "image/jpeg"),
    ".jpeg": ((b"\xff\xd8\xff",), "image/jpeg"),
    ".png": ((b"\x89PNG\r\n\x1a\n",), "image/png"),
    ".pdf": ((b"%PDF-",), "application/pdf"),
}
#: The stored path (cases/<id>/<name>) must fit the file field's 100 characters.
MAX_STEM_LENGTH = 60


def attachment_content_type(name: str) -> str:
    return ALLOWED_TYPES.get(PurePath(name).suffix.lower(), ((), "application/octet-stream"))[1]


def _refuse(field: str, message: str) -> ApplicationError:
    return ApplicationError(message, extra={"errors": {field: [message]}})


def _check_file(file: UploadedFile) -> str:
    """The extension, once name, size and the first bytes agree it is a JPEG, PNG or PDF."""
    suffix = PurePath(file.name or "").suffix.lower()
    if suffix not in ALLOWED_TYPES:
        raise _refuse("file", _("只能上传 JPG、PNG 图片或 PDF 文件"))
    if not file.size:
        raise _refuse("file", _("文件是空的"))
    if file.size > MAX_ATTACHMENT_BYTES:
        raise _refuse(
            "file", _("文件不能超过 %(mb)d MB") % {"mb": MAX_ATTACHMENT_BYTES // (1024 * 1024)}
        )
    file.seek(0)
    head = file.read(16)
    file.seek(0)
    # A renamed file (a .doc called .pdf) is refused: what is served must be what it claims.
    if not head.startswith(ALLOWED_TYPES[suffix][0]):
        raise _refuse("file", _("文件内容与扩展名不符，请上传真实的 JPG、PNG 或 PDF 文件"))
    return suffix


@transaction.atomic
def case_attachment_add(
    *,
    actor: User | None,
    case: Case,
    file: UploadedFile,
    kind: str = AttachmentKind.OTHER,
    title: str = "",
    transition: CaseTransition | None = None,
) -> CaseAttachment:
    """File a scan or photo with a case, by a village, township or district user of its area.
    The description defaults to the kind's name."""
    if not has_role(actor, REGISTRY_EDITORS):
        raise PermissionDenied(_("您的角色不能上传流程附件"))
    if not division_in_area(actor, case.village_id):
        raise PermissionDenied(_("该流程不在您的管辖范围内"))
    if kind not in AttachmentKind.values:
        raise _refuse("kind", _("请选择材料类型"))
    title = title.strip() or str(AttachmentKind(kind).label)
    suffix = _check_file(file)
    if transition is not None and transition.case_id != case.pk:
        raise ApplicationError(_("所选步骤不属于该流程"))
    stem = PurePath(file.name).stem[:MAX_STEM_LENGTH] or "file"
    file.name = f"{stem}{suffix}"
    attachment = CaseAttachment(
        case=case,
        transition=transition,
        file=file,
        kind=kind,
        title=title[:100],
        uploaded_by=stored_actor(actor),
    )
    attachment.full_clean()
    attachment.save()
    try:
        audit_record(
            actor=actor,
            action=AuditAction.CREATE,
            target=attachment,
            after=model_snapshot(attachment),
            subject=household_subject(case.household_id, case),
            extra={"case": case.pk},
        )
    except Exception:
        # The row goes with the rolled-back transaction; the stored file must go too.
        attachment.file.delete(save=False)
        raise
    return attachment
