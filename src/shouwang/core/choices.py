from django.db import models
from django.utils.translation import gettext_lazy as _


class DivisionLevel(models.IntegerChoices):
    PROVINCE = 1, _("省")
    CITY = 2, _("市")
    COUNTY = 3, _("区县")
    TOWNSHIP = 4, _("乡镇（街道）")
    VILLAGE = 5, _("村（社区）")


#: Digits of the 12-digit statistical code that identify a division at each level.
LEVEL_PREFIX_LENGTH = {
    DivisionLevel.PROVINCE: 2,
    DivisionLevel.CITY: 4,
    DivisionLevel.COUNTY: 6,
    DivisionLevel.TOWNSHIP: 9,
    DivisionLevel.VILLAGE: 12,
}


class Role(models.TextChoices):
    DISTRICT_ADMIN = "district_admin", _("区县管理员")
    DISTRICT_STAFF = "district_staff", _("区县工作人员")
    TOWNSHIP_STAFF = "township_staff", _("乡镇（街道）工作人员")
    VILLAGE_CADRE = "village_cadre", _("村干部/网格员")
    DEPARTMENT_OFFICER = "department_officer", _("行业部门工作人员")


class Department(models.TextChoices):
    MEDICAL_INSURANCE = "medical_insurance", _("医保局")
    CIVIL_AFFAIRS = "civil_affairs", _("民政局")
    DISABLED_FEDERATION = "disabled_federation", _("残联")
    EDUCATION = "education", _("教委")
    HOUSING = "housing", _("住建委")
    HUMAN_RESOURCES = "human_resources", _("人力社保局")
    EMERGENCY = "emergency", _("应急局")
    HEALTH = "health", _("卫健委")
    PUBLIC_SECURITY = "public_security", _("公安局")
    WATER = "water", _("水利局")
    AGRICULTURE = "agriculture", _("农业农村委")
    RURAL_REVITALIZATION = "rural_revitalization", _("乡村振兴局")
    DEVELOPMENT_REFORM = "development_reform", _("发展改革委")
    FINANCE = "finance", _("金融监管部门")
    TRANSPORT = "transport", _("交通局")
    INDUSTRY_COMMERCE = "industry_commerce", _("工商联")
    COOPERATION = "cooperation", _("东西部协作办")


class AuditAction(models.TextChoices):
    CREATE = "create", _("新增")
    UPDATE = "update", _("修改")
    DELETE = "delete", _("删除")
    REVEAL = "reveal", _("查看完整敏感信息")
    REVEAL_DENIED = "reveal_denied", _("查看完整敏感信息被拒绝")
    SIGN_IN = "sign_in", _("登录")
    SIGN_IN_FAILED = "sign_in_failed", _("登录失败")
    EXPORT = "export", _("导出")
    IMPORT = "import", _("导入")
