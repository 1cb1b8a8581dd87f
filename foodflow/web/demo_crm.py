"""The demo company's customers and market: about three hundred customers in five regions and
six channels with their contacts and addresses, leads in every stage, four months of visits,
calls and tastings, development plans, competitors, intelligence, demand records and reports.

Deterministic (one ``random.Random(2026)``, consumed in a fixed order; dates relative to
``today``) and idempotent: every record is looked up by a natural key before it is made. The
keys do not depend on the date (credit code, lead company, competitor name, intel
competitor/product/channel/region, demand who/need), except that plans and reports belong to a
quarter. Customers, credit, leads and their steps, activities, plans and market records go
through the CRM services with ``by=None``, so the demo obeys the same rules as real data;
contacts and delivery addresses are written in bulk (see ``_CustomerRows``), as is what the
order history would have set (tier, first order, when the customer was won): orders do not
exist yet."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from difflib import SequenceMatcher

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from foodflow.accounts import services as accounts
from foodflow.accounts.models import OrgUnit, Role, User
from foodflow.core.notifications import WELCOME, notify
from foodflow.core.vocab import Channel, Tier
from foodflow.crm import services as crm
from foodflow.crm.models import (
    Activity,
    Competitor,
    Contact,
    Customer,
    DeliveryAddress,
    DemandRecord,
    DevelopmentPlan,
    IntelEntry,
    Lead,
    ResearchReport,
)
from foodflow.crm.services import CREDIT_CODE_CHARS, CREDIT_CODE_WEIGHTS, name_core

SEED = 2026
PASSWORD = "FoodFlow-2026"  # the demo password (demo.DEMO_PASSWORD; not imported: demo imports this module)
ACTIVITY_DAYS = 120  # how far back the visits and calls go
INTEL_DAYS = 150

# The reps of the regions the demo users do not cover: username, 姓名, team, e-mail, phone.
CRM_REPS = [
    ("rep4", "林晓", "SOUTH-SZ", "lin.xiao@xianhe.example", "13800000015"),
    ("rep5", "马超", "NORTH-BJ", "ma.chao@xianhe.example", "13800000016"),
    ("rep6", "杨帆", "SOUTHWEST-CD", "yang.fan@xianhe.example", "13800000017"),
    ("rep7", "许娟", "CENTRAL-WH", "xu.juan@xianhe.example", "13800000018"),
]
DEMO_REPS = ("rep", "rep2", "rep3")


@dataclass(frozen=True)
class City:
    name: str  # 上海
    full: str  # 上海市 (as an address starts)
    region: str  # org unit code of the sales region
    division: str  # administrative division code: digits 3–8 of a credit code
    area_code: str
    districts: tuple[str, ...]
    owners: tuple[tuple[str, int], ...]  # (rep, customers owned here)
    port: bool = False  # export customers sit in port cities


CITIES = [
    City(
        "上海",
        "上海市",
        "EAST",
        "310000",
        "021",
        ("浦东新区", "闵行区", "徐汇区", "静安区", "杨浦区", "宝山区", "嘉定区", "松江区", "普陀区", "长宁区"),
        (("rep", 45), ("rep2", 25)),
        port=True,
    ),
    City(
        "苏州",
        "江苏省苏州市",
        "EAST",
        "320500",
        "0512",
        ("姑苏区", "吴中区", "相城区", "吴江区", "虎丘区"),
        (("rep", 15),),
        port=True,
    ),
    City(
        "杭州",
        "浙江省杭州市",
        "EAST",
        "330100",
        "0571",
        ("西湖区", "拱墅区", "上城区", "滨江区", "萧山区", "余杭区"),
        (("rep2", 25),),
    ),
    City(
        "宁波",
        "浙江省宁波市",
        "EAST",
        "330200",
        "0574",
        ("海曙区", "鄞州区", "江北区", "北仑区"),
        (("rep2", 10),),
        port=True,
    ),
    City(
        "广州",
        "广东省广州市",
        "SOUTH",
        "440100",
        "020",
        ("天河区", "越秀区", "海珠区", "白云区", "番禺区", "荔湾区"),
        (("rep3", 40),),
        port=True,
    ),
    City("佛山", "广东省佛山市", "SOUTH", "440600", "0757", ("禅城区", "南海区", "顺德区"), (("rep3", 10),)),
    City(
        "深圳",
        "广东省深圳市",
        "SOUTH",
        "440300",
        "0755",
        ("福田区", "南山区", "罗湖区", "宝安区", "龙岗区"),
        (("rep4", 20),),
        port=True,
    ),
    City(
        "北京",
        "北京市",
        "NORTH",
        "110000",
        "010",
        ("朝阳区", "海淀区", "丰台区", "东城区", "西城区", "通州区"),
        (("rep5", 25),),
    ),
    City(
        "天津",
        "天津市",
        "NORTH",
        "120000",
        "022",
        ("和平区", "河西区", "南开区", "滨海新区"),
        (("rep5", 12),),
        port=True,
    ),
    City(
        "成都",
        "四川省成都市",
        "SOUTHWEST",
        "510100",
        "028",
        ("锦江区", "武侯区", "青羊区", "金牛区", "成华区"),
        (("rep6", 22),),
    ),
    City(
        "重庆",
        "重庆市",
        "SOUTHWEST",
        "500000",
        "023",
        ("渝中区", "江北区", "南岸区", "九龙坡区", "渝北区"),
        (("rep6", 10),),
    ),
    City(
        "武汉",
        "湖北省武汉市",
        "CENTRAL",
        "420100",
        "027",
        ("江汉区", "武昌区", "洪山区", "汉阳区", "江岸区"),
        (("rep7", 20),),
    ),
    City(
        "长沙",
        "湖南省长沙市",
        "CENTRAL",
        "430100",
        "0731",
        ("岳麓区", "芙蓉区", "天心区", "开福区", "雨花区"),
        (("rep7", 9),),
    ),
]
CITY = {city.name: city for city in CITIES}

CHANNEL_WEIGHTS = {
    Channel.DISTRIBUTOR: 30,
    Channel.KA: 17,
    Channel.RETAIL: 19,
    Channel.FOOD_SERVICE: 19,
    Channel.ECOMMERCE: 8,
    Channel.EXPORT: 9,
}

# Invented names: two characters of good omen for trading companies, supermarket chains per region.
BRAND_FIRST = "鑫丰盛源汇恒泰嘉润瑞隆昌兴达利和康宏锦祥晟裕佳鸿旺荣诚永益金"
BRAND_SECOND = "源达丰和泰盛兴隆昌利祥裕顺通宏康辉茂森霖航扬亿邦诺川禧悦泓"
KA_CHAINS = {
    "EAST": ("万家福", "鲜邻", "惠客多", "优品汇"),
    "SOUTH": ("粤佳", "百鲜汇", "丰源"),
    "NORTH": ("金穗", "悦邻"),
    "SOUTHWEST": ("蜀鲜", "锦城优选"),
    "CENTRAL": ("江城鲜选", "湘惠"),
}
KA_FORMATS = ("超市", "购物广场", "生活超市", "量贩")
NAME_TEMPLATES = {
    Channel.DISTRIBUTOR: (
        "{city}{brand}食品贸易有限公司",
        "{city}{brand}商贸有限公司",
        "{city}{brand}副食品有限公司",
        "{city}{brand}供应链管理有限公司",
        "{city}{brand}食品销售有限公司",
    ),
    Channel.KA: ("{city}{brand}超市有限公司",),  # and the chains' stores, see _Names.company
    Channel.RETAIL: (
        "{surname}记粮油副食店",
        "{district}{brand}便利店",
        "{brand}生鲜食杂店",
        "{district}{surname}氏商行",
    ),
    Channel.FOOD_SERVICE: (
        "{city}{brand}餐饮管理有限公司",
        "{brand}酒家",
        "{brand}火锅{district}店",
        "{city}{brand}团膳服务有限公司",
        "{brand}面馆",
    ),
    Channel.ECOMMERCE: ("{city}{brand}电子商务有限公司", "{city}{brand}网络科技有限公司"),
    Channel.EXPORT: ("{city}{brand}进出口有限公司", "{city}{brand}国际贸易有限公司"),
}
SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶"
    "程苏魏吕丁沈姚卢姜崔钟谭陆汪范金石廖贾夏韦方白邹孟熊秦邱江尹薛段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃戴莫孔汤"
)
GIVEN = (
    "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超霞平刚华玉兰萍红鹏辉建国志文斌宇浩凯健俊峰晨晓欣怡佳琳雪梅婷倩颖慧丹蕾璐鑫亮宁"
)
ROADS = (
    "人民路",
    "建设路",
    "解放路",
    "中山路",
    "长江路",
    "和平路",
    "新华路",
    "工业大道",
    "物流园路",
    "商贸路",
    "滨江大道",
    "环城北路",
    "友谊路",
    "胜利路",
)
BANKS = ("中国工商银行", "中国建设银行", "中国农业银行", "中国银行", "交通银行", "招商银行")
PREFERENCES = (
    "周二、周五上午收货，需提前一天预约卸货",
    "乳品只收生产日期15天内的批次",
    "发票随货同行，纸质对账单每月5日前寄到",
    "整托盘送货，托盘高度不超过1.5米",
    "节前一个月备货，要求提前报促销方案",
    "冷链品送货须附温度记录",
    "只接受电子发票，对账走供应商平台",
    "仓库夜间22点后可收货",
)
TERMS = {  # the payment terms (days) each channel is offered
    Channel.KA: (45, 60),
    Channel.DISTRIBUTOR: (30, 45),
    Channel.RETAIL: (0, 30),
    Channel.FOOD_SERVICE: (30, 45),
    Channel.ECOMMERCE: (30,),
    Channel.EXPORT: (0, 30),
}
CREDIT_RANGE = {Tier.A: (80, 200), Tier.B: (20, 80), Tier.C: (5, 20)}  # ×10,000 CNY
# a shop or a restaurant buys less than a distributor of the same tier (never below 50,000)
CREDIT_SCALE = {
    Channel.KA: 1.0,
    Channel.DISTRIBUTOR: 1.0,
    Channel.EXPORT: 0.8,
    Channel.FOOD_SERVICE: 0.6,
    Channel.ECOMMERCE: 0.6,
    Channel.RETAIL: 0.25,
}
SMALL_RESTAURANTS = ("面馆", "酒家", "火锅")

PRODUCTS_BY_CHANNEL = {
    Channel.KA: (
        "鲜禾纯牛奶",
        "鲜禾原味酸奶",
        "田园牧场鲜牛奶",
        "鲜禾冰红茶",
        "小禾薯片",
        "禾家厨房三鲜水饺",
        "禾田食用调和油",
    ),
    Channel.DISTRIBUTOR: (
        "鲜禾纯牛奶",
        "鲜禾高钙牛奶",
        "鲜禾饮用天然水",
        "鲜禾冰红茶",
        "小禾五香花生",
        "禾田生抽酱油",
        "禾田大豆油",
        "禾田东北大米",
    ),
    Channel.RETAIL: ("鲜禾纯牛奶", "鲜禾饮用天然水", "鲜禾酸梅汤", "小禾薯片", "小禾鸡蛋卷", "禾田米醋"),
    Channel.FOOD_SERVICE: (
        "禾田特级生抽 餐饮装",
        "禾田蚝油",
        "禾田牛油火锅底料",
        "禾家厨房猪肉白菜水饺",
        "禾田大豆油",
        "鲜禾纯牛奶 家庭装",
    ),
    Channel.ECOMMERCE: ("田园牧场有机纯牛奶", "鲜禾100%苹果汁", "小禾海苔米饼", "禾田五常稻花香大米", "鲜禾核桃乳"),
    Channel.EXPORT: ("禾田生抽酱油", "禾田香辣酱", "禾家厨房黑芝麻汤圆", "小禾焦糖瓜子", "禾田五常稻花香大米"),
}

# (subject, [outcomes]) per kind; {product}, {competitor}, {contact}, {n} (cases), {few} (cases) and
# {rate} (percent) are filled in, the same in the subject and the outcome of one activity.
VISITS = (
    (
        "拜访{contact}，沟通{product}铺货",
        ("客户同意试销{product}，首批{n}箱，下周送货", "对价格有异议，希望比照{competitor}再让2个点，需向经理申请"),
    ),
    (
        "门店陈列及库存检查",
        (
            "已调整到主通道端架，陈列面增加一倍",
            "门店库存偏高，暂缓订货两周",
            "发现{competitor}新品上架，已拍照反馈市场部",
        ),
    ),
    ("季度业务回顾", ("回顾上季度销量，完成率约{rate}%，约定下季度促销档期", "客户希望增加返利，已记录待评估")),
    ("新品推介：{product}", ("客户对口味认可，要求先寄样品给品控", "客户愿意参加下月新品档期，预计{n}箱")),
    ("对账及回款沟通", ("月度对账无差异，回款计划已确认", "有两张单据金额待核对，财务下周回复")),
)
CALLS = (
    ("电话沟通下月订货计划", ("确认补货{n}箱，本周内送达", "客户下月减量，原因是{competitor}在做买赠")),
    ("电话跟进{product}试销情况", ("试销两周动销良好，追加{n}箱", "动销一般，约定加一场试吃")),
    ("确认到货及签收情况", ("货已签收，外箱完好", "有{few}箱外箱破损，已登记，下批补发")),
)
TASTINGS = (
    ("{product}门店试吃活动", ("试吃反馈良好，现场成交{n}箱", "周末客流大，试吃物料不够，下次多带")),
    ("{product}后厨试用", ("厨师长认可鲜味和稳定性，准备替换现用品牌", "成本比{competitor}高，需测算每份菜的差价")),
)
SAMPLES = (("寄送{product}样品", ("样品已签收，等待采购和品控评估", "客户品控要求补充检测报告，已转质量部")),)
DORMANT_CALL = (
    "电话回访，了解停订原因",
    ("客户经营调整，暂停进货，三个月后再联系", "改用{competitor}的产品，价格低约5%，保持联系"),
)
BLOCKED_CALL = ("电话催收逾期货款", ("客户承诺月底前回款一半，其余下月结清", "对方财务负责人不在，约定下周再联系"))

COMPETITORS = [
    # name, price positioning, products, strengths, [(product as sold, price per case)]
    (
        "蒙泉乳业",
        Competitor.Positioning.PREMIUM,
        "常温奶、有机奶、低温酸奶、巴氏鲜奶",
        "主打自有牧场奶源，华北、华东KA的堆头和端架资源多",
        [
            ("蒙泉纯牛奶 250ml×24", "69"),
            ("蒙泉有机纯牛奶 250ml×12", "72"),
            ("蒙泉原味酸奶 200g×24", "79"),
            ("蒙泉鲜牛奶 950ml×12", "198"),
        ],
    ),
    (
        "清溪饮品",
        Competitor.Positioning.MID,
        "茶饮料、饮用水、果汁",
        "价格灵活，经销商返利高，流通渠道冰柜投放多",
        [("清溪冰红茶 500ml×15", "34"), ("清溪饮用天然水 550ml×24", "26"), ("清溪橙汁饮料 450ml×15", "43")],
    ),
    (
        "脆香坊食品",
        Competitor.Positioning.ECONOMY,
        "薯片、饼干、炒货",
        "价格低，县乡流通铺货广，新品上得快",
        [("脆香坊薯片 原味 70g×24", "88"), ("脆香坊苏打饼干 400g×12", "98"), ("脆香坊焦糖瓜子 200g×20", "112")],
    ),
    (
        "北乡速冻",
        Competitor.Positioning.MID,
        "水饺、汤圆、包子馒头",
        "北方市场份额高，团餐和学校食堂渠道强",
        [("北乡猪肉白菜水饺 1kg×10", "172"), ("北乡黑芝麻汤圆 400g×20", "150"), ("北乡鲜肉大包 600g×12", "185")],
    ),
    (
        "鼎香调味",
        Competitor.Positioning.MID,
        "酱油、蚝油、火锅底料",
        "餐饮渠道深耕，有厨师推广团队，西南火锅店覆盖率高",
        [
            ("鼎香生抽 500ml×12", "80"),
            ("鼎香餐饮生抽 1.9L×6", "125"),
            ("鼎香蚝油 700g×12", "102"),
            ("鼎香牛油火锅底料 400g×30", "340"),
        ],
    ),
    (
        "丰穗粮油",
        Competitor.Positioning.ECONOMY,
        "食用油、大米、面粉",
        "规模大、价格低，节日团购和社区团购强",
        [("丰穗大豆油 5L×4", "248"), ("丰穗东北大米 5kg×4", "145"), ("丰穗小麦粉 5kg×4", "106")],
    ),
]
INTEL_CHANNELS = {
    Channel.DISTRIBUTOR: Decimal("0.90"),
    Channel.KA: Decimal("1.00"),
    Channel.RETAIL: Decimal("1.05"),
    Channel.FOOD_SERVICE: Decimal("0.95"),
    Channel.ECOMMERCE: Decimal("0.97"),
}
INTEL_SOURCES = ("门店巡查", "经销商反馈", "客户采购反馈", "电商平台价格监测", "业务员拜访", "展会收集")
INTEL_NOTES = (
    "",
    "",
    "端架陈列，买二赠一",
    "经销商进货返利3%",
    "新品上市，进场费每店500元",
    "大促直降10元/箱",
    "餐饮店送台卡和围裙",
    "整箱购买送同品小包装",
    "价格与上月持平",
)

# who (None: a demo customer of the channel and region), need, volume, timing, sensitivity, notes,
# channel, region
DEMAND = [
    (
        None,
        "低糖酸奶 200g 杯装，冷链到店",
        "每月约600箱",
        "下季度起",
        "medium",
        "希望与常温奶同一车次配送",
        Channel.KA,
        "EAST",
    ),
    (
        None,
        "餐饮装生抽 1.9L，稳定供货",
        "每月约300箱",
        "长期",
        "high",
        "现用品牌涨价后在找替代",
        Channel.FOOD_SERVICE,
        "SOUTH",
    ),
    (
        None,
        "牛油火锅底料 定制辣度",
        "每月约800箱",
        "秋冬旺季前",
        "medium",
        "要求提供定制配方和专属包装",
        Channel.FOOD_SERVICE,
        "SOUTHWEST",
    ),
    (
        None,
        "速冻水饺 团餐装 2.5kg",
        "每周约150箱",
        "开学季",
        "high",
        "学校食堂招标，价格权重高",
        Channel.FOOD_SERVICE,
        "CENTRAL",
    ),
    (
        None,
        "春节礼盒：牛奶+坚果组合",
        "约5000盒",
        "春节前备货",
        "low",
        "关注包装和送货时效",
        Channel.DISTRIBUTOR,
        "NORTH",
    ),
    (
        None,
        "整箱天然水，社区团购规格",
        "每月约2000箱",
        "暑期旺季",
        "high",
        "团购平台要求次日达",
        Channel.ECOMMERCE,
        "EAST",
    ),
    (
        None,
        "出口东南亚的生抽和香辣酱",
        "每季度两个40尺柜",
        "下半年",
        "medium",
        "需要英文标签和原产地证",
        Channel.EXPORT,
        "SOUTH",
    ),
    (None, "便利店小规格薯片 40g", "每月约400箱", "下季度起", "medium", "要求便利店专属条码", Channel.RETAIL, "SOUTH"),
    (
        "华东社区团购团长群",
        "家庭装纯牛奶 1L",
        "每月约1500箱",
        "长期",
        "high",
        "对价格非常敏感，接受临期9折",
        "",
        "EAST",
    ),
    (
        "成都火锅门店（调研12家）",
        "牛油底料和香油蘸碟",
        "单店每月约40箱",
        "长期",
        "medium",
        "看重口味稳定，换供应商谨慎",
        "",
        "SOUTHWEST",
    ),
    (
        "武汉高校食堂（调研5所）",
        "大米、食用油、面粉",
        "单校每月约200袋",
        "开学季",
        "high",
        "走政府采购流程，要求资质齐全",
        "",
        "CENTRAL",
    ),
    ("北京写字楼便利店", "无糖苏打水和茶饮料", "单店每周约10箱", "夏季", "low", "看重冷柜陈列支持", "", "NORTH"),
    (
        "广州茶餐厅（调研8家）",
        "鲜牛奶 950ml，做奶茶用",
        "单店每周约6箱",
        "长期",
        "medium",
        "对奶香浓度要求高",
        "",
        "SOUTH",
    ),
    ("天津滨海新区工厂食堂", "速冻包子馒头", "每月约300箱", "下季度起", "high", "需要按月开票、60天账期", "", "NORTH"),
    ("杭州精品超市", "有机纯牛奶和无蔗糖酸奶", "每月约200箱", "长期", "low", "愿意为有机认证付溢价", "", "EAST"),
]
REPORT_TOPICS = ("乳品及饮料市场监测报告", "休闲食品渠道价格研究", "速冻食品餐饮渠道调研", "调味品与粮油市场季度报告")

LOST_REASONS = (
    "价格高于竞品约8%，客户选择了{competitor}",
    "对方已与现有供应商签订年度合同",
    "账期要求90天，超出公司政策",
    "冷链配送暂时覆盖不到该区域",
    "订货量太小，达不到起订量",
    "联系人离职，暂无决策人",
)
LEAD_SOURCES = {
    Lead.Source.TRADE_SHOW: 20,
    Lead.Source.REFERRAL: 12,
    Lead.Source.ONLINE: 10,
    Lead.Source.COLD_VISIT: 12,
    Lead.Source.PHONE: 6,
}
LEAD_OWNERS = {"rep": 14, "rep2": 10, "rep3": 12, "rep4": 6, "rep5": 6, "rep6": 6, "rep7": 6}
LEAD_STAGES = ["new"] * 10 + ["contacted"] * 12 + ["qualified"] * 10 + ["converted"] * 12 + ["lost"] * 16
DIRECT_CUSTOMERS = 288  # and the twelve converted leads make three hundred


def credit_code(first_seventeen: str) -> str:
    """The seventeen characters plus their GB 32100-2015 check character."""
    total = sum(
        CREDIT_CODE_CHARS.index(char) * weight
        for char, weight in zip(first_seventeen, CREDIT_CODE_WEIGHTS, strict=False)
    )
    return first_seventeen + CREDIT_CODE_CHARS[(31 - total % 31) % 31]


def quarter_of(day: date) -> tuple[date, date]:
    start = date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)
    next_start = date(day.year + 1, 1, 1) if start.month == 10 else date(day.year, start.month + 3, 1)
    return start, next_start - timedelta(days=1)


def trade_show_on(day: date, city: City) -> str:
    """The show a lead met on ``day`` came from: the national one in its season (spring in
    March–April, autumn in October–November), else a local fair."""
    if day.month in (3, 4):
        return f"{day.year} 春季糖酒会"
    if day.month in (10, 11):
        return f"{day.year} 秋季糖酒会"
    return f"{day.year} {city.name}食品饮料订货会"


# --- the plan: everything the seed makes, computed from the seed and the date alone ---------------


@dataclass(frozen=True)
class ContactPlan:
    name: str
    role: str
    title: str
    phone: str
    wechat: str
    is_primary: bool


@dataclass(frozen=True)
class ActivityPlan:
    kind: str
    subject: str
    outcome: str
    happened_on: date
    next_revisit: date | None


@dataclass
class CustomerPlan:
    name: str
    credit_code: str
    channel: str
    city: City
    owner: str
    status: str
    tier: str
    created_on: date
    first_order_on: date | None
    credit_limit: Decimal = Decimal(0)
    payment_terms_days: int = 0
    tags: list[str] = field(default_factory=list)
    preferences: str = ""
    address: str = ""
    landline: str = ""
    bank: str = ""
    account: str = ""
    contacts: list[ContactPlan] = field(default_factory=list)
    activities: list[ActivityPlan] = field(default_factory=list)

    def fields(self) -> dict:
        """What ``customer_create`` (or ``lead_convert``) is given."""
        data = {
            "status": self.status,
            "tags": self.tags,
            "preferences": self.preferences,
            "invoice_title": self.name,
            "invoice_bank": self.bank,
            "invoice_account": self.account,
            "invoice_address_phone": f"{self.address} {self.landline}",
        }
        if self.channel == Channel.KA:
            data["min_shelf_life_percent"] = 67
        elif self.channel == Channel.FOOD_SERVICE:
            data["min_shelf_life_days"] = 7
        return data


@dataclass
class LeadPlan:
    company: str
    credit_code: str
    contact_name: str
    phone: str
    source: str
    channel: str
    city: City
    owner: str
    created_on: date
    stage: str
    notes: str
    lost_reason: str = ""
    activities: list[ActivityPlan] = field(default_factory=list)
    customer: CustomerPlan | None = None  # what a converted lead became


@dataclass(frozen=True)
class IntelPlan:
    competitor: str
    product: str
    observed_price: Decimal
    channel: str
    region: str
    observed_on: date
    source: str
    notes: str
    refresh_days: int


@dataclass(frozen=True)
class DemandPlan:
    who: str
    need: str
    volume: str
    timing: str
    price_sensitivity: str
    notes: str
    customer_code: str  # credit code of the demo customer it is about, or ""
    refreshed_on: date


@dataclass(frozen=True)
class ReportPlan:
    title: str
    period_start: date
    period_end: date
    summary: str
    refreshed_on: date


@dataclass
class CrmPlan:
    customers: list[CustomerPlan]
    leads: list[LeadPlan]
    intel: list[IntelPlan]
    demand: list[DemandPlan]
    reports: list[ReportPlan]


class _Names:
    """Company names and credit codes, unique, and never so alike that the duplicate check of
    ``customer_create`` would flag one demo customer as another."""

    def __init__(self, rng: random.Random):
        self.rng = rng
        brands = [a + b for a in BRAND_FIRST for b in BRAND_SECOND if a != b]
        rng.shuffle(brands)
        self.brands = brands
        self.names: list[tuple[str, str]] = []  # (name, core)
        self.codes: set[str] = set()

    def _alike(self, name: str) -> bool:
        core = name_core(name)
        matcher = SequenceMatcher(None, "", core)
        for other_name, other in self.names:
            if other_name == name:
                return True
            if core[:2] not in other_name:  # what customer_duplicates compares at all
                continue
            if core in other or other in core:
                return True
            matcher.set_seq1(other)
            if matcher.real_quick_ratio() >= 0.85 and matcher.quick_ratio() >= 0.85 and matcher.ratio() >= 0.85:
                return True
        return False

    def company(self, channel: str, city: City) -> str:
        rng = self.rng
        while True:
            district = rng.choice(city.districts)
            short = district.removesuffix("新区").removesuffix("区") if len(district) > 2 else district
            if channel == Channel.KA and rng.random() < 0.8:
                name = f"{rng.choice(KA_CHAINS[city.region])}{rng.choice(KA_FORMATS)}{short}店"
            else:
                template = rng.choice(NAME_TEMPLATES[channel])
                name = template.format(
                    city=city.name, brand=self.brands.pop(), district=short, surname=rng.choice(SURNAMES)
                )
            if not self._alike(name):
                self.names.append((name, name_core(name)))
                return name

    def credit_code(self, city: City, *, individual: bool = False) -> str:
        while True:
            # 91: an enterprise registered with the market regulator, 92: a sole trader (个体工商户);
            # then the division code and nine characters: "MA…" for those registered since 2015
            if self.rng.random() < 0.5:
                body = "MA" + "".join(self.rng.choice(CREDIT_CODE_CHARS) for _ in range(7))
            else:
                body = "".join(self.rng.choice("0123456789") for _ in range(9))
            code = credit_code(("92" if individual else "91") + city.division + body)
            if code not in self.codes:
                self.codes.add(code)
                return code


def _person(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2, 2))))


def _mobile(rng: random.Random) -> str:
    return f"1{rng.choice('358')}{rng.randint(0, 9)}{rng.randint(0, 99_999_999):08d}"


def _texts(
    rng: random.Random, subject: str, outcomes: tuple[str, ...], *, channel: str, contact: str
) -> tuple[str, str]:
    words = {
        "product": rng.choice(PRODUCTS_BY_CHANNEL[channel]),
        "competitor": rng.choice(COMPETITORS)[0],
        "contact": contact,
        "n": rng.choice((20, 30, 50, 80, 100, 150)),
        "few": rng.randint(2, 8),
        "rate": rng.randint(85, 112),
    }
    return subject.format(**words), rng.choice(outcomes).format(**words)


def _activity(rng, kind_choices, *, channel, contact, happened_on, next_revisit) -> ActivityPlan:
    kind, (subject, outcomes) = kind_choices
    subject, outcome = _texts(rng, subject, outcomes, channel=channel, contact=contact)
    return ActivityPlan(kind, subject, outcome, happened_on, next_revisit)


def _pick_activity(rng: random.Random, *, channel: str, status: str, last: bool) -> tuple[str, tuple]:
    if last and status == Customer.Status.DORMANT:
        return Activity.Kind.CALL, DORMANT_CALL
    if last and status == Customer.Status.BLOCKED:
        return Activity.Kind.CALL, BLOCKED_CALL
    if status == Customer.Status.PROSPECT:
        options = [(Activity.Kind.VISIT, VISITS[3]), (Activity.Kind.SAMPLE, SAMPLES[0])]
    else:
        options = [*((Activity.Kind.VISIT, v) for v in VISITS), *((Activity.Kind.CALL, c) for c in CALLS)]
    if channel == Channel.FOOD_SERVICE:
        options.append((Activity.Kind.TASTING, TASTINGS[1]))
    elif channel in (Channel.KA, Channel.RETAIL):
        options.append((Activity.Kind.TASTING, TASTINGS[0]))
    return rng.choice(options)


def _activities(
    rng: random.Random,
    *,
    today: date,
    channel: str,
    status: str,
    contact: str,
    count: int,
    first_day: int = ACTIVITY_DAYS,
    last_within: int = 60,
) -> list[ActivityPlan]:
    """``count`` activities, oldest first; each but the last has a revisit that the next one
    follows up. The last one's revisit is often open: upcoming, or overdue for the revisit list."""
    if count == 0:
        return []
    last_ago = rng.randint(1, min(last_within, first_day))
    if status == Customer.Status.DORMANT:
        last_ago = rng.randint(min(70, first_day), first_day)
    earlier = {rng.randint(last_ago + 1, first_day) for _ in range(count - 1)} if last_ago < first_day else set()
    days = [*sorted(earlier, reverse=True), last_ago]
    plans = []
    for index, ago in enumerate(days):
        happened = today - timedelta(days=ago)
        last = index == len(days) - 1
        revisit: date | None = happened + timedelta(days=rng.randint(7, 21))
        if last and (status == Customer.Status.DORMANT or (revisit < today and rng.random() < 0.7)):
            revisit = None  # nothing agreed, or settled on the phone since
        plans.append(
            _activity(
                rng,
                _pick_activity(rng, channel=channel, status=status, last=last),
                channel=channel,
                contact=contact,
                happened_on=happened,
                next_revisit=revisit,
            )
        )
    return plans


def _contacts(rng: random.Random, channel: str) -> list[ContactPlan]:
    first_role, first_title = (
        (Contact.Role.OWNER, "老板")
        if channel == Channel.RETAIL
        else (Contact.Role.PURCHASING, "采购经理")
        if channel in (Channel.KA, Channel.FOOD_SERVICE, Channel.ECOMMERCE)
        else (Contact.Role.OWNER, "总经理")
    )
    roles = [
        (first_role, first_title),
        (Contact.Role.FINANCE, "财务主管"),
        rng.choice(
            [
                (Contact.Role.PURCHASING, "采购专员"),
                (Contact.Role.WAREHOUSE, "仓库主管"),
                (Contact.Role.QUALITY, "品控经理"),
            ]
        ),
    ]
    count = 1 if channel == Channel.RETAIL else rng.choice((1, 2, 2, 3))
    contacts = []
    for index, (role, title) in enumerate(roles[:count]):
        phone = _mobile(rng)
        contacts.append(
            ContactPlan(_person(rng), role, title, phone, phone if rng.random() < 0.5 else "", is_primary=index == 0)
        )
    return contacts


def _customer(
    rng: random.Random,
    names: _Names,
    *,
    today: date,
    city: City,
    owner: str,
    channel: str,
    status: str,
    created_on: date,
    name: str,
    tier: str | None = None,
    code: str | None = None,
) -> CustomerPlan:
    if tier is None:
        weights = {Channel.KA: (3, 4, 5), Channel.DISTRIBUTOR: (3, 4, 5), Channel.RETAIL: (0, 2, 8)}
        tier = rng.choices([Tier.A, Tier.B, Tier.C], weights=weights.get(channel, (1, 3, 8)))[0]
    if status == Customer.Status.PROSPECT:
        tier = Tier.C
    # the shops of the retail channel are sole traders
    code = code or names.credit_code(city, individual=channel == Channel.RETAIL)
    plan = CustomerPlan(
        name=name,
        credit_code=code,
        channel=channel,
        city=city,
        owner=owner,
        status=status,
        tier=tier,
        created_on=created_on,
        first_order_on=None,
    )
    if status != Customer.Status.PROSPECT:
        low, high = CREDIT_RANGE[tier]
        scale = 0.3 if any(word in name for word in SMALL_RESTAURANTS) else CREDIT_SCALE[channel]
        plan.credit_limit = Decimal(max(5, round(rng.randint(low, high) * scale)) * 10_000)
        plan.payment_terms_days = rng.choice(TERMS[channel])
        latest = max(created_on, today - timedelta(days=1))
        plan.first_order_on = min(created_on + timedelta(days=rng.randint(3, 40)), latest)
    tags = set()
    if tier == Tier.A:
        tags.add("重点客户")
    if channel in (Channel.KA, Channel.FOOD_SERVICE) and rng.random() < 0.5:
        tags.add("冷链")
    if channel == Channel.KA and "店" in plan.name:
        tags.add("连锁")
    if created_on >= today - timedelta(days=90):
        tags.add("新开发")
    if status == Customer.Status.BLOCKED:
        tags.add("逾期冻结")
        plan.preferences = "应收逾期超过90天，财务已冻结发货，回款后解冻"
    elif rng.random() < 0.35:
        plan.preferences = rng.choice(PREFERENCES)
    plan.tags = sorted(tags)
    district = rng.choice(city.districts)
    plan.address = f"{city.full}{district}{rng.choice(ROADS)}{rng.randint(1, 999)}号"
    plan.landline = f"{city.area_code}-{rng.randint(2, 8)}{rng.randint(0, 9_999_999):07d}"
    plan.bank = f"{rng.choice(BANKS)}{city.name}{district.removesuffix('区')}支行"
    plan.account = "".join(str(rng.randint(0, 9)) for _ in range(19))
    plan.contacts = _contacts(rng, channel)
    return plan


def crm_plan(*, today: date) -> CrmPlan:
    rng = random.Random(SEED)  # noqa: S311 - demo data: repeatable, not secret
    names = _Names(rng)
    customers = _customer_plans(rng, names, today=today)
    leads = _lead_plans(rng, names, today=today)
    intel = _intel_plans(rng, today=today)
    demand = _demand_plans(rng, today=today, customers=customers)
    return CrmPlan(customers, leads, intel, demand, _report_plans(today=today))


def _customer_plans(rng: random.Random, names: _Names, *, today: date) -> list[CustomerPlan]:
    # The first customer is the one the stock seed's customer price list names (customer id 1).
    first = "上海佳乐汇超市有限公司"
    names.names.append((first, name_core(first)))
    plans = [
        _customer(
            rng,
            names,
            today=today,
            city=CITY["上海"],
            owner="rep",
            channel=Channel.KA,
            status=Customer.Status.ACTIVE,
            created_on=today - timedelta(days=1100),
            name=first,
            tier=Tier.A,
        )
    ]
    plans[0].tags = sorted({*plans[0].tags, "战略合作", "冷链"})
    slots = [(city, owner) for city in CITIES for owner, count in city.owners for _ in range(count)]
    rng.shuffle(slots)
    status = Customer.Status
    statuses = (
        [status.BLOCKED] * 3
        + [status.DORMANT] * 28
        + [status.PROSPECT] * 34
        + [status.ACTIVE] * (DIRECT_CUSTOMERS - 1 - 3 - 28 - 34)
    )
    rng.shuffle(statuses)
    for (city, owner), state in zip(slots[: DIRECT_CUSTOMERS - 1], statuses, strict=True):
        channels = [c for c in CHANNEL_WEIGHTS if c != Channel.EXPORT or city.port]
        channel = rng.choices(channels, weights=[CHANNEL_WEIGHTS[c] for c in channels])[0]
        # prospects were met, and a few active customers won, in the last three months
        if state == status.PROSPECT or (state == status.ACTIVE and rng.random() < 0.1):
            created_on = today - timedelta(days=rng.randint(5, 90))
        else:
            created_on = today - timedelta(days=rng.randint(150, 1100))
        plan = _customer(
            rng,
            names,
            today=today,
            city=city,
            owner=owner,
            channel=channel,
            status=state,
            created_on=created_on,
            name=names.company(channel, city),
        )
        plans.append(plan)
    for plan in plans:
        demo_rep = plan.owner in DEMO_REPS
        if plan.status == Customer.Status.PROSPECT:
            count = rng.choice((0, 1, 2))
        else:
            count = rng.choices((0, 1, 2, 3), weights=(2, 4, 3, 1) if demo_rep else (4, 4, 2, 0))[0]
        first_day = min(ACTIVITY_DAYS, (today - plan.created_on).days)
        plan.activities = _activities(
            rng,
            today=today,
            channel=plan.channel,
            status=plan.status,
            contact=plan.contacts[0].name,
            count=count if first_day > 1 else 0,
            first_day=first_day,
        )
    return plans


def _lead_plans(rng: random.Random, names: _Names, *, today: date) -> list[LeadPlan]:
    stages = list(LEAD_STAGES)
    rng.shuffle(stages)
    sources = [source for source, count in LEAD_SOURCES.items() for _ in range(count)]
    owners = [owner for owner, count in LEAD_OWNERS.items() for _ in range(count)]
    rng.shuffle(sources)
    rng.shuffle(owners)
    cities_of = {}
    for city in CITIES:
        for owner, _count in city.owners:
            cities_of.setdefault(owner, []).append(city)
    plans = []
    for stage, source, owner in zip(stages, sources, owners, strict=True):
        city = rng.choice(cities_of[owner])
        channels = [c for c in CHANNEL_WEIGHTS if c != Channel.EXPORT or city.port]
        channel = rng.choices(channels, weights=[CHANNEL_WEIGHTS[c] for c in channels])[0]
        company = names.company(channel, city)
        created_on = today - timedelta(days=rng.randint(10, ACTIVITY_DAYS))
        product = rng.choice(PRODUCTS_BY_CHANNEL[channel])
        notes = {
            Lead.Source.TRADE_SHOW: f"{trade_show_on(created_on, city)}展位留资，对{product}感兴趣",
            Lead.Source.REFERRAL: "老客户介绍，对方正在调整供应商",
            Lead.Source.ONLINE: f"官网留言咨询{product}的经销政策",
            Lead.Source.COLD_VISIT: f"陌拜，位置好，日均客流约{rng.randint(3, 20) * 100}人",
            Lead.Source.PHONE: f"来电咨询{product}的起订量和价格",
        }[source]
        contact = _person(rng)
        wants_code = stage in ("converted", "qualified") or rng.random() < 0.4
        code = names.credit_code(city, individual=channel == Channel.RETAIL) if wants_code else ""
        plan = LeadPlan(company, code, contact, _mobile(rng), source, channel, city, owner, created_on, stage, notes)
        count = {
            "new": 1 if source == Lead.Source.TRADE_SHOW else 0,
            "contacted": 1,
            "qualified": 2,
            "converted": rng.choice((2, 3)),
            "lost": rng.choice((1, 2)),
        }[stage]
        span = (today - created_on).days
        activities = []
        day = created_on
        for index in range(count):
            if index == 0 and source == Lead.Source.TRADE_SHOW:
                kind, subject, outcome = Activity.Kind.TRADE_SHOW, f"{trade_show_on(created_on, city)}展位洽谈", notes
            else:
                kind, (subject, outcomes) = rng.choice(
                    [
                        (Activity.Kind.VISIT, VISITS[3]),
                        (Activity.Kind.SAMPLE, SAMPLES[0]),
                        (Activity.Kind.CALL, CALLS[1]),
                        (Activity.Kind.TASTING, TASTINGS[1 if channel == Channel.FOOD_SERVICE else 0]),
                    ]
                )
                subject, outcome = _texts(rng, subject, outcomes, channel=channel, contact=contact)
            day = min(
                today - timedelta(days=1),
                day + timedelta(days=rng.randint(0 if index == 0 else 3, max(3, span // (count + 1)))),
            )
            last = index == count - 1
            open_lead = stage in ("new", "contacted", "qualified")
            revisit = day + timedelta(days=rng.randint(5, 21)) if (not last or open_lead) else None
            if last and revisit and revisit < today and rng.random() < 0.5:
                revisit = None
            activities.append(ActivityPlan(kind, subject, outcome, day, revisit))
        plan.activities = activities
        if stage == "lost":
            plan.lost_reason = LOST_REASONS[rng.randrange(len(LOST_REASONS))].format(
                competitor=rng.choice(COMPETITORS)[0]
            )
        if stage == "converted":
            won_on = min(today - timedelta(days=1), day + timedelta(days=rng.randint(1, 7)))
            status = Customer.Status.ACTIVE if rng.random() < 0.75 else Customer.Status.PROSPECT
            plan.customer = _customer(
                rng,
                names,
                today=today,
                city=city,
                owner=owner,
                channel=channel,
                status=status,
                created_on=won_on,
                name=company,
                tier=Tier.C,
                code=code,
            )
            plan.customer.contacts = plan.customer.contacts[1:]  # the lead's contact becomes the primary one
        plans.append(plan)
    return plans


def _half_yuan(amount: Decimal) -> Decimal:
    return (amount * 2).quantize(Decimal("1"), rounding=ROUND_HALF_UP) / 2


def _intel_plans(rng: random.Random, *, today: date) -> list[IntelPlan]:
    products = [(name, product, Decimal(price)) for name, *_rest, rows in COMPETITORS for product, price in rows]
    seen, plans = set(), []
    while len(plans) < 40:
        competitor, product, price = rng.choice(products)
        channel = rng.choice(list(INTEL_CHANNELS))
        region = rng.choice(["EAST", "SOUTH", "NORTH", "SOUTHWEST", "CENTRAL"])
        if (competitor, product, channel, region) in seen:
            continue
        seen.add((competitor, product, channel, region))
        observed = _half_yuan(price * INTEL_CHANNELS[channel] * Decimal(str(round(rng.uniform(0.92, 1.06), 3))))
        notes = rng.choice(INTEL_NOTES)
        plans.append(
            IntelPlan(
                competitor,
                product,
                observed.quantize(Decimal("0.01")),
                channel,
                region,
                today - timedelta(days=rng.randint(2, INTEL_DAYS)),
                rng.choice(INTEL_SOURCES),
                notes,
                refresh_days=90 if channel in (Channel.KA, Channel.ECOMMERCE) else 120,
            )
        )
    return plans


def _demand_plans(rng: random.Random, *, today: date, customers: list[CustomerPlan]) -> list[DemandPlan]:
    plans = []
    for who, need, volume, timing, sensitivity, notes, channel, region in DEMAND:
        code = ""
        if who is None:
            matching = [
                c
                for c in customers
                if c.channel == channel and c.city.region == region and c.status == Customer.Status.ACTIVE
            ]
            customer = rng.choice(matching)
            who, code = customer.name, customer.credit_code
        plans.append(
            DemandPlan(
                who, need, volume, timing, sensitivity, notes, code, today - timedelta(days=rng.randint(5, INTEL_DAYS))
            )
        )
    return plans


def _report_plans(*, today: date) -> list[ReportPlan]:
    plans = []
    end = quarter_of(today)[0] - timedelta(days=1)
    for _ in range(4):  # the last four complete quarters
        start, end = quarter_of(end)
        quarter = (start.month - 1) // 3 + 1
        topic = REPORT_TOPICS[quarter - 1]
        title = f"{start.year}年第{quarter}季度{topic}"
        summary = (
            f"{start:%Y-%m-%d}至{end:%Y-%m-%d}：覆盖华东、华南、华北、西南、华中五个大区的门店巡查、"
            f"经销商访谈和电商价格监测。主要竞品{COMPETITORS[quarter - 1][0]}、{COMPETITORS[quarter + 1][0]}"
            "以买赠和返利为主，KA渠道价格总体稳定；餐饮渠道对大包装、稳定供货的需求上升；"
            "建议下季度加强冷链品的端架陈列和餐饮装推广。"
        )
        plans.append(ReportPlan(title, start, end, summary, min(today, end + timedelta(days=20))))
        end = start - timedelta(days=1)
    return plans


# --- the seed ---------------------------------------------------------------------------------------


@transaction.atomic
def crm_seed(*, users: dict[str, User], units: dict[str, OrgUnit], today: date | None = None) -> dict:
    """Seed customers, leads, activities, plans and market research. The reps it adds for the
    regions without demo reps (rep4…rep7) are added to ``users``."""
    today = today or timezone.localdate()
    users.update(_seed_reps(users, units))
    plan = crm_plan(today=today)
    rows = _CustomerRows()
    customers = _seed_customers(plan.customers, users, units, rows)
    _seed_leads(plan.leads, users, units, rows)
    rows.write()
    _seed_plans(users, units, today=today)
    _seed_market(plan, users, units, customers)
    return crm_counts(plan)


def crm_counts(plan: CrmPlan) -> dict:
    codes = [c.credit_code for c in plan.customers] + [lead.credit_code for lead in plan.leads if lead.customer]
    customers = Customer.objects.filter(credit_code__in=codes)
    leads = Lead.objects.filter(company__in=[lead.company for lead in plan.leads])
    return {
        "reps": User.objects.filter(username__in=[row[0] for row in CRM_REPS]).count(),
        "customers": customers.count(),
        "contacts": Contact.objects.filter(customer__in=customers).count(),
        "addresses": DeliveryAddress.objects.filter(customer__in=customers).count(),
        "leads": leads.count(),
        "activities": Activity.objects.filter(Q(customer__in=customers) | Q(lead__in=leads)).count(),
        "plans": DevelopmentPlan.objects.filter(name__contains="客户开发计划").count(),
        "competitors": Competitor.objects.filter(name__in=[row[0] for row in COMPETITORS]).count(),
        "intel": IntelEntry.objects.filter(competitor__name__in=[row[0] for row in COMPETITORS]).count(),
        "demand": DemandRecord.objects.filter(who__in=[d.who for d in plan.demand]).count(),
        "reports": ResearchReport.objects.filter(title__in=[r.title for r in plan.reports]).count(),
    }


def _seed_reps(users: dict[str, User], units: dict[str, OrgUnit]) -> dict[str, User]:
    rep_role = Role.objects.get(code="rep")
    reps = {}
    for username, full_name, team, email, phone in CRM_REPS:
        user = User.objects.filter(username=username).first()
        if user is None:
            user = accounts.user_create(
                by=users["admin"],
                username=username,
                password=PASSWORD,
                full_name=full_name,
                email=email,
                phone=phone,
                org_unit=units[team],
                roles=[rep_role],
            )
            notify(recipients=[user], kind=WELCOME, params={"name": full_name, "roles": rep_role.name})
        reps[username] = user
    return reps


class _CustomerRows:
    """What a customer file holds besides what the services write: the contacts and the delivery
    address (rows without rules beyond one primary contact and one default address) and what
    the order history would have set (tier, when the customer was won, its first order), since
    orders do not exist yet. Written in bulk once every customer exists: the seed stays fast."""

    def __init__(self):
        self.contacts: list[Contact] = []
        self.addresses: list[DeliveryAddress] = []
        self.customers: list[Customer] = []

    def add(self, customer: Customer, plan: CustomerPlan, *, receiver: tuple[str, str]) -> None:
        self.contacts += [
            Contact(
                customer=customer,
                name=contact.name,
                role=contact.role,
                title=contact.title,
                phone=contact.phone,
                wechat=contact.wechat,
                is_primary=contact.is_primary,
            )
            for contact in plan.contacts
        ]
        if plan.status != Customer.Status.PROSPECT:
            label = "门店" if plan.channel == Channel.RETAIL else "主仓"
            self.addresses.append(
                DeliveryAddress(
                    customer=customer,
                    label=label,
                    address=plan.address,
                    receiver=receiver[0],
                    phone=receiver[1],
                    is_default=True,
                )
            )
        customer.tier, customer.first_order_at = plan.tier, plan.first_order_on
        customer.created_at = timezone.make_aware(datetime.combine(plan.created_on, time(9 + len(plan.name) % 8, 30)))
        self.customers.append(customer)

    def write(self) -> None:
        Contact.objects.bulk_create(self.contacts, batch_size=500)
        DeliveryAddress.objects.bulk_create(self.addresses, batch_size=500)
        Customer.objects.bulk_update(self.customers, ["tier", "first_order_at", "created_at"], batch_size=200)


def _credit_set(customer: Customer, plan: CustomerPlan) -> None:
    if plan.credit_limit:
        crm.customer_set_credit(
            by=None, customer=customer, credit_limit=plan.credit_limit, payment_terms_days=plan.payment_terms_days
        )


def _log(activities: list[ActivityPlan], *, customer: Customer | None = None, lead: Lead | None = None) -> None:
    # oldest first: each activity follows up the open revisits before it, as it would have live
    for activity in activities:
        crm.activity_log(
            by=None,
            kind=activity.kind,
            subject=activity.subject,
            outcome=activity.outcome,
            happened_on=activity.happened_on,
            next_revisit=activity.next_revisit,
            customer=customer,
            lead=lead,
        )


def _seed_customers(plans: list[CustomerPlan], users, units, rows: _CustomerRows) -> dict[str, Customer]:
    existing = {c.credit_code: c for c in Customer.objects.filter(credit_code__in=[p.credit_code for p in plans])}
    for plan in plans:
        if plan.credit_code in existing:
            continue
        customer = crm.customer_create(
            by=None,
            confirm_duplicate=True,
            name=plan.name,
            credit_code=plan.credit_code,
            channel=plan.channel,
            region=units[plan.city.region],
            owner=users[plan.owner],
            **plan.fields(),
        )
        _credit_set(customer, plan)
        rows.add(customer, plan, receiver=(plan.contacts[0].name, plan.contacts[0].phone))
        _log(plan.activities, customer=customer)
        existing[plan.credit_code] = customer
    return existing


def _seed_leads(plans: list[LeadPlan], users, units, rows: _CustomerRows) -> None:
    existing = set(Lead.objects.filter(company__in=[p.company for p in plans]).values_list("company", flat=True))
    for plan in plans:
        if plan.company in existing:
            continue
        lead = crm.lead_create(
            by=None,
            company=plan.company,
            credit_code=plan.credit_code,
            source=plan.source,
            channel=plan.channel,
            region=units[plan.city.region],
            owner=users[plan.owner],
            contact_name=plan.contact_name,
            phone=plan.phone,
            notes=plan.notes,
        )
        # met on the day of the plan, not today (the lead list is ordered by it)
        Lead.objects.filter(pk=lead.pk).update(
            created_at=timezone.make_aware(datetime.combine(plan.created_on, time(10, 0)))
        )
        _log(plan.activities, lead=lead)
        if plan.stage in ("contacted", "qualified", "converted") or (plan.stage == "lost" and plan.activities):
            lead = crm.lead_contact(by=None, lead=lead)
        if plan.stage in ("qualified", "converted"):
            lead = crm.lead_qualify(by=None, lead=lead)
        if plan.stage == "lost":
            crm.lead_lose(by=None, lead=lead, reason=plan.lost_reason)
        if plan.stage == "converted":
            customer = crm.lead_convert(by=None, lead=lead, confirm_duplicate=True, **plan.customer.fields())
            _credit_set(customer, plan.customer)
            # the lead's contact is the primary contact already (lead_convert made it)
            rows.add(customer, plan.customer, receiver=(plan.contact_name, plan.phone))


def _seed_plans(users, units, *, today: date) -> None:
    start, end = quarter_of(today)
    quarter = f"{start.year}年第{(start.month - 1) // 3 + 1}季度"
    targets = [  # rep or team, new customers, first orders
        (users["rep"], None, 8, 6),
        (users["rep2"], None, 6, 5),
        (users["rep3"], None, 7, 5),
        (None, units["EAST-SH"], 18, 13),
        (None, units["SOUTH-GZ"], 10, 7),
    ]
    for rep, team, new, first in targets:
        if DevelopmentPlan.objects.filter(rep=rep, team=team, period_start=start, period_end=end).exists():
            continue
        who = rep.full_name if rep else team.name
        crm.plan_create(
            by=None,
            name=f"{quarter}{who}客户开发计划",
            period_start=start,
            period_end=end,
            rep=rep,
            team=team,
            target_new_customers=new,
            target_first_orders=first,
        )


def _seed_market(plan: CrmPlan, users, units, customers: dict[str, Customer]) -> None:
    analyst = users["analyst"]
    competitors = {c.name: c for c in Competitor.objects.filter(name__in=[row[0] for row in COMPETITORS])}
    for name, positioning, products, strengths, _rows in COMPETITORS:
        if name not in competitors:
            competitors[name] = crm.competitor_save(
                by=None, name=name, products=products, strengths=strengths, positioning=positioning
            )
    known = set(
        IntelEntry.objects.filter(competitor__in=competitors.values()).values_list(
            "competitor__name", "product", "channel", "region__code"
        )
    )
    for entry in plan.intel:
        if (entry.competitor, entry.product, entry.channel, entry.region) in known:
            continue
        crm.market_record_save(
            by=None,
            kind="intel",
            owner=analyst,
            refreshed_on=entry.observed_on,
            refresh_days=entry.refresh_days,
            competitor=competitors[entry.competitor],
            product=entry.product,
            observed_price=entry.observed_price,
            unit="箱",
            channel=entry.channel,
            region=units[entry.region],
            observed_on=entry.observed_on,
            source=entry.source,
            notes=entry.notes,
        )
    known = set(DemandRecord.objects.values_list("who", "need"))
    for demand in plan.demand:
        if (demand.who, demand.need) in known:
            continue
        crm.market_record_save(
            by=None,
            kind="demand",
            owner=analyst,
            refreshed_on=demand.refreshed_on,
            customer=customers.get(demand.customer_code),
            who=demand.who,
            need=demand.need,
            volume=demand.volume,
            timing=demand.timing,
            price_sensitivity=demand.price_sensitivity,
            notes=demand.notes,
        )
    known = set(ResearchReport.objects.values_list("title", flat=True))
    for report in plan.reports:
        if report.title in known:
            continue
        crm.market_record_save(
            by=None,
            kind="report",
            owner=analyst,
            refreshed_on=report.refreshed_on,
            refresh_days=180,
            title=report.title,
            period_start=report.period_start,
            period_end=report.period_end,
            summary=report.summary,
        )
