"""Enumerations of the registry, carrying the national monitoring system's Chinese labels."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class HouseholdType(models.TextChoices):
    POVERTY_EXITED = "poverty_exited", _("脱贫户")
    MONITORED = "monitored", _("监测户")
    ORDINARY = "ordinary", _("一般农户")


class MonitoringCategory(models.TextChoices):
    UNSTABLE_EXITED = "unstable_exited", _("脱贫不稳定户")
    MARGINAL = "marginal", _("边缘易致贫户")
    SUDDEN_HARDSHIP = "sudden_hardship", _("突发严重困难户")


class MonitoringStatus(models.TextChoices):
    NOT_MONITORED = "not_monitored", _("未纳入监测")
    RISK_UNRESOLVED = "risk_unresolved", _("风险未消除")
    RISK_ELIMINATED = "risk_eliminated", _("风险已消除")


class EliminationMethod(models.TextChoices):
    ASSISTED = "assisted", _("帮扶消除")
    NATURAL = "natural", _("自然消除")


class RiskType(models.TextChoices):
    ILLNESS = "illness", _("因病")
    DISABILITY = "disability", _("因残")
    SCHOOLING = "schooling", _("因学")
    HOUSING = "housing", _("因安全住房")
    DRINKING_WATER = "drinking_water", _("因安全饮水")
    NATURAL_DISASTER = "natural_disaster", _("因自然灾害")
    ACCIDENT = "accident", _("因意外事故")
    INDUSTRY_FAILURE = "industry_failure", _("因产业项目失败")
    UNSTABLE_EMPLOYMENT = "unstable_employment", _("因务工就业不稳")
    LACK_OF_LABOUR = "lack_of_labour", _("缺劳动力")
    OTHER = "other", _("其他")


#: Risk types the registry records as a household yes/no fact: the risk counts as eliminated
#: only while that field is True (a delivered measure asks the cadre to confirm it).
RISK_REGISTRY_FLAGS: dict[str, str] = {
    RiskType.HOUSING: "housing_secure",
    RiskType.DRINKING_WATER: "drinking_water_secure",
}

#: Labels found in real exports that mean the same as a canonical label.
RISK_TYPE_ALIASES = {
    "务工就业不稳": RiskType.UNSTABLE_EMPLOYMENT,
    "因缺劳动力": RiskType.LACK_OF_LABOUR,
}


class RelocationMode(models.TextChoices):
    CENTRALISED = "centralised", _("集中安置")
    DISPERSED = "dispersed", _("分散安置")


class Relation(models.TextChoices):
    HEAD = "head", _("户主")
    SPOUSE = "spouse", _("配偶")
    SON = "son", _("之子")
    DAUGHTER = "daughter", _("之女")
    DAUGHTER_IN_LAW = "daughter_in_law", _("之儿媳")
    SON_IN_LAW = "son_in_law", _("之女婿")
    GRANDSON = "grandson", _("之孙子")
    GRANDDAUGHTER = "granddaughter", _("之孙女")
    GRANDCHILD_DAUGHTER_SIDE = "daughters_child", _("之外孙子女")
    FATHER = "father", _("之父")
    MOTHER = "mother", _("之母")
    GRANDPARENT = "grandparent", _("之祖父母或外祖父母")
    SIBLING = "sibling", _("之兄弟姐妹")
    OTHER = "other", _("其他")


class Sex(models.TextChoices):
    MALE = "male", _("男")
    FEMALE = "female", _("女")


class Ethnicity(models.TextChoices):
    HAN = "01", _("汉族")
    MONGOL = "02", _("蒙古族")
    HUI = "03", _("回族")
    TIBETAN = "04", _("藏族")
    UYGHUR = "05", _("维吾尔族")
    MIAO = "06", _("苗族")
    YI = "07", _("彝族")
    ZHUANG = "08", _("壮族")
    BOUYEI = "09", _("布依族")
    KOREAN = "10", _("朝鲜族")
    MANCHU = "11", _("满族")
    DONG = "12", _("侗族")
    YAO = "13", _("瑶族")
    BAI = "14", _("白族")
    TUJIA = "15", _("土家族")
    HANI = "16", _("哈尼族")
    KAZAKH = "17", _("哈萨克族")
    DAI = "18", _("傣族")
    LI = "19", _("黎族")
    LISU = "20", _("傈僳族")
    VA = "21", _("佤族")
    SHE = "22", _("畲族")
    GAOSHAN = "23", _("高山族")
    LAHU = "24", _("拉祜族")
    SUI = "25", _("水族")
    DONGXIANG = "26", _("东乡族")
    NAXI = "27", _("纳西族")
    JINGPO = "28", _("景颇族")
    KYRGYZ = "29", _("柯尔克孜族")
    TU = "30", _("土族")
    DAUR = "31", _("达斡尔族")
    MULAO = "32", _("仫佬族")
    QIANG = "33", _("羌族")
    BLANG = "34", _("布朗族")
    SALAR = "35", _("撒拉族")
    MAONAN = "36", _("毛南族")
    GELAO = "37", _("仡佬族")
    XIBE = "38", _("锡伯族")
    ACHANG = "39", _("阿昌族")
    PUMI = "40", _("普米族")
    TAJIK = "41", _("塔吉克族")
    NU = "42", _("怒族")
    UZBEK = "43", _("乌孜别克族")
    RUSSIAN = "44", _("俄罗斯族")
    EVENK = "45", _("鄂温克族")
    DEANG = "46", _("德昂族")
    BONAN = "47", _("保安族")
    YUGUR = "48", _("裕固族")
    GIN = "49", _("京族")
    TATAR = "50", _("塔塔尔族")
    DERUNG = "51", _("独龙族")
    OROQEN = "52", _("鄂伦春族")
    HEZHEN = "53", _("赫哲族")
    MONBA = "54", _("门巴族")
    LHOBA = "55", _("珞巴族")
    JINO = "56", _("基诺族")
    OTHER = "97", _("其他")


class Education(models.TextChoices):
    PRESCHOOL = "preschool", _("学龄前儿童")
    ILLITERATE = "illiterate", _("文盲或半文盲")
    PRIMARY = "primary", _("小学")
    JUNIOR = "junior", _("初中")
    SENIOR = "senior", _("高中")
    VOCATIONAL = "vocational", _("中专或中职")
    COLLEGE = "college", _("大专")
    UNIVERSITY = "university", _("本科及以上")


class SchoolStatus(models.TextChoices):
    NOT_IN_SCHOOL = "not_in_school", _("非在校生")
    PRESCHOOL = "preschool", _("学前教育")
    PRIMARY = "primary", _("小学")
    JUNIOR = "junior", _("初中")
    SENIOR = "senior", _("普通高中")
    SECONDARY_VOCATIONAL = "secondary_vocational", _("中职")
    HIGHER_VOCATIONAL = "higher_vocational", _("高职高专")
    UNDERGRADUATE = "undergraduate", _("本科及以上")
    DROPPED_OUT = "dropped_out", _("失学辍学")


class HealthStatus(models.TextChoices):
    HEALTHY = "healthy", _("健康")
    CHRONIC = "chronic", _("长期慢性病")
    SERIOUS_ILLNESS = "serious_illness", _("患有大病")
    DISABLED = "disabled", _("残疾")


class DisabilityGrade(models.TextChoices):
    GRADE_1 = "1", _("一级")
    GRADE_2 = "2", _("二级")
    GRADE_3 = "3", _("三级")
    GRADE_4 = "4", _("四级")


class DisabilityType(models.TextChoices):
    VISUAL = "visual", _("视力残疾")
    HEARING = "hearing", _("听力残疾")
    SPEECH = "speech", _("言语残疾")
    PHYSICAL = "physical", _("肢体残疾")
    INTELLECTUAL = "intellectual", _("智力残疾")
    MENTAL = "mental", _("精神残疾")
    MULTIPLE = "multiple", _("多重残疾")


class LabourSkill(models.TextChoices):
    ORDINARY = "ordinary", _("普通劳动力")
    SKILLED = "skilled", _("技能劳动力")
    WEAK = "weak", _("弱劳动力或半劳动力")
    LOST = "lost", _("丧失劳动力")
    NONE = "none", _("无劳动力")


#: Labour capacities that count as "able to work" for development-type assistance.
LABOUR_CAPABLE = frozenset({LabourSkill.ORDINARY, LabourSkill.SKILLED})
#: Any of these means a household is not wholly without labour capacity (整户无劳动能力).
SOME_LABOUR = LABOUR_CAPABLE | {LabourSkill.WEAK}


class EmploymentStatus(models.TextChoices):
    OUTSIDE_PROVINCE = "outside_province", _("省外务工")
    OUTSIDE_COUNTY = "outside_county", _("省内县外务工")
    INSIDE_COUNTY = "inside_county", _("县内务工")
    PUBLIC_WELFARE_JOB = "public_welfare_job", _("公益性岗位")
    SELF_EMPLOYED = "self_employed", _("自主创业或务农")
    NOT_WORKING = "not_working", _("未务工")


class SocialAssistance(models.TextChoices):
    NONE = "none", _("未享受")
    DIBAO = "dibao", _("低保")
    TEKUN = "tekun", _("特困供养")
