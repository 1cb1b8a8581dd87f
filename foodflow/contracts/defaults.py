"""What a new installation starts with: the three contract templates (Chinese first, English
beside it), the review policies and the risk policy. Migrations call ``defaults_ensure``
with their historical models; it never overwrites what legal changed."""

# (key, 标题, title, 条文, text, free clause)
_PARTIES = (
    "parties",
    "合同双方",
    "Parties",
    "供方（甲方）：{{our_company}}\n需方（乙方）：{{customer_name}}（统一社会信用代码：{{customer_credit_code}}）\n"
    "合同编号：{{contract_number}}。双方本着平等互利的原则，经友好协商，订立本合同。",
    "Seller (Party A): {{our_company}}\nBuyer (Party B): {{customer_name}} (credit code {{customer_credit_code}})\n"
    "Contract number {{contract_number}}. The parties agree as follows.",
    False,
)
_QUALITY = (
    "quality",
    "质量标准",
    "Quality standard",
    "甲方提供的产品应符合 {{quality_standard}} 及国家食品安全标准的规定，每批随货附出厂检验报告。"
    "乙方应于收货后 3 日内验收，对质量有异议的，应在此期限内书面提出。",
    "The products meet {{quality_standard}} and the national food safety standards; each lot ships with its "
    "release test report. Party B inspects within 3 days of receipt and raises any quality objection in writing "
    "within that time.",
    False,
)
_PAYMENT = (
    "payment",
    "结算方式",
    "Payment",
    "乙方应于每批货物交付后 {{payment_terms_days}} 日内以银行转账方式支付该批货款，甲方开具增值税发票。",
    "Party B pays each delivery by bank transfer within {{payment_terms_days}} days of delivery; Party A issues "
    "the VAT invoice.",
    False,
)
_DELIVERY = (
    "delivery",
    "交货",
    "Delivery",
    "交货条件：{{delivery_terms}}。交货地点：{{delivery_address}}。冷链产品全程温控运输。",
    "Delivery terms: {{delivery_terms}}. Place of delivery: {{delivery_address}}. Chilled and frozen products "
    "travel in a temperature-controlled chain.",
    True,
)
_LIABILITY = (
    "liability",
    "违约责任",
    "Liability",
    "甲方逾期交货的，每逾期一日按逾期部分货款的 {{late_penalty}} 支付违约金；乙方逾期付款的，按同一比例支付违约金。"
    "任何一方在本合同项下的赔偿责任总额以合同金额的 {{liability_cap}} 为限。",
    "For late delivery Party A pays {{late_penalty}} of the late amount per day; Party B pays the same rate on "
    "late payments. Either party's total liability under this contract is limited to {{liability_cap}} of the "
    "contract amount.",
    False,
)
_DISPUTE = (
    "dispute",
    "争议解决",
    "Disputes",
    "因本合同发生的争议，双方应协商解决；协商不成的，{{dispute_venue}}。",
    "Disputes are first negotiated; failing agreement they go to {{dispute_venue}}.",
    False,
)
_TERM = (
    "term",
    "合同期限",
    "Term",
    "本合同自 {{start_date}} 起至 {{end_date}} 止，经双方签字盖章后生效。",
    "This contract runs from {{start_date}} to {{end_date}} and takes effect when signed and sealed by both parties.",
    False,
)
_OTHER = (
    "other",
    "其他约定",
    "Other terms",
    "本合同一式两份，双方各执一份，具有同等法律效力。",
    "This contract is made in two copies, one for each party, with equal force.",
    True,
)

TEMPLATES = [
    (
        "single-order",
        "single_order",
        "单笔销售合同",
        "Single-order sales contract",
        [
            _PARTIES,
            (
                "products",
                "产品、数量与价格",
                "Products, quantities and prices",
                "产品名称、规格、数量及含税单价见附表一，合同总金额（含税）人民币 {{total_amount}} 元"
                "（大写：{{total_amount_words}}）。",
                "Products, quantities and tax-inclusive prices are listed in Annex 1; the contract amount is "
                "CNY {{total_amount}} including VAT.",
                False,
            ),
            _QUALITY,
            _DELIVERY,
            _PAYMENT,
            _LIABILITY,
            _DISPUTE,
            _TERM,
            _OTHER,
        ],
    ),
    (
        "framework",
        "framework",
        "年度销售框架协议",
        "Annual sales framework agreement",
        [
            _PARTIES,
            (
                "products",
                "产品与价格",
                "Products and prices",
                "协议期内乙方按附表一所列产品及含税价格向甲方下达订单，每份订单构成本协议项下的具体合同；"
                "附表一数量为预计采购量。",
                "During the term Party B orders the products of Annex 1 at the tax-inclusive prices listed; each "
                "order is a contract under this agreement. Quantities in Annex 1 are estimates.",
                True,
            ),
            _QUALITY,
            _DELIVERY,
            _PAYMENT,
            _LIABILITY,
            _DISPUTE,
            _TERM,
            _OTHER,
        ],
    ),
    (
        "distribution",
        "distribution",
        "经销协议",
        "Distribution agreement",
        [
            _PARTIES,
            (
                "products",
                "经销产品与区域",
                "Products and territory",
                "甲方授权乙方在约定区域内经销附表一所列产品，乙方不得跨区域销售；年度目标采购额人民币 "
                "{{total_amount}} 元。",
                "Party A appoints Party B to distribute the products of Annex 1 in the agreed territory, without "
                "selling outside it; the annual purchase target is CNY {{total_amount}}.",
                True,
            ),
            _QUALITY,
            _DELIVERY,
            _PAYMENT,
            _LIABILITY,
            _DISPUTE,
            _TERM,
            _OTHER,
        ],
    ),
]

# (name, condition, threshold, role code, level)
POLICIES = [
    ("法务审核全部合同 / Legal reviews every contract", "always", None, "legal", 1),
    ("大额合同由销售总监会签 / Director co-signs large contracts", "amount_over", "1000000", "director", 2),
]


def defaults_ensure(template_model, clause_model, policy_model, role_model, risk_policy_model) -> None:
    for code, kind, name, name_en, clauses in TEMPLATES:
        if template_model.objects.filter(code=code).exists():
            continue
        template = template_model.objects.create(code=code, kind=kind, name=name, name_en=name_en)
        for position, (key, title, title_en, body, body_en, editable) in enumerate(clauses, start=1):
            clause_model.objects.create(
                template=template,
                position=position,
                key=key,
                title=title,
                title_en=title_en,
                body=body,
                body_en=body_en,
                editable=editable,
            )
    for name, condition, threshold, role_code, level in POLICIES:
        role = role_model.objects.filter(code=role_code).first()
        if role is None or policy_model.objects.filter(doc_type="contract", approver_role=role).exists():
            continue
        policy_model.objects.create(
            name=name, doc_type="contract", condition=condition, threshold=threshold, approver_role=role, level=level
        )
    if not risk_policy_model.objects.exists():
        risk_policy_model.objects.create()
