"""The demo department that `manage.py seed_demo` builds.

Organisations, people and case texts are invented; the cases follow the usual
shape of a 党建引领 write-up: a lead, numbered sections, numbered points.
"""

from review.setup import EDITOR_GROUP

DEMO_PASSWORD = "casehub-demo"  # noqa: S105 - published in the README

THEMES = ["学习教育", "科技创新", "服务民生", "文明创建", "人才培养"]

# (name, kind, parent name)
BRANCHES = [
    ("计量科学研究院党委", "committee", None),
    ("先进制造计量研究中心党总支", "general_branch", "计量科学研究院党委"),
    ("化学计量与分析科学研究所党总支", "general_branch", "计量科学研究院党委"),
    ("机关党总支", "general_branch", "计量科学研究院党委"),
    ("精密测量第一党支部", "branch", "先进制造计量研究中心党总支"),
    ("智能传感党支部", "branch", "先进制造计量研究中心党总支"),
    ("标准物质研制党支部", "branch", "化学计量与分析科学研究所党总支"),
    ("人力党群部党支部", "branch", "机关党总支"),
]

# The groups review.setup makes with the 初审 and 终审 stages.
REVIEW_GROUPS = {"preliminary": "初审组", "final": "终审组"}


# username: (full name, organisation, role, groups, is_staff)
ACCOUNTS = {
    "secretary1": ("王建国", "精密测量第一党支部", "secretary", [], False),
    "correspondent1": ("李晓梅", "精密测量第一党支部", "correspondent", [], False),
    "secretary2": ("陈志远", "标准物质研制党支部", "secretary", [], False),
    "reviewer1": ("赵敏", None, None, [REVIEW_GROUPS["preliminary"]], False),
    "reviewer2": ("刘洋", None, None, [REVIEW_GROUPS["final"]], False),
    "editor1": ("孙悦", None, None, [EDITOR_GROUP], False),
    "admin": ("系统管理员", None, None, [], True),
}

# Each case: who writes it, then the workflow steps it goes through, in order:
# ("submit",), ("withdraw", comment), ("resubmit",),
# (outcome, reviewer, comment) with outcome "approve", "return" or "reject".
CASES = [
    {
        "writer": "correspondent1",
        "steps": [
            ("submit",),
            ("return", "reviewer1", "请补充攻关成效的具体数据，并压缩第三部分篇幅。"),
            ("resubmit",),
            ("approve", "reviewer1", "修改到位，同意提交终审。"),
            ("approve", "reviewer2", ""),
        ],
        "themes": ["科技创新", "人才培养"],
        "title": "党建引领新篇章",
        "tagline": "筑基·创新·暖心",
        "author_name": "李晓梅",
        "lead": (
            "精密测量第一党支部立足纳米尺度测量攻关任务，把支部建在课题组上，"
            "把党员聚在攻关一线，以“筑基、创新、暖心”三项工程推动党建工作与"
            "科研业务同频共振，一年来支部党员牵头完成关键测量装置研制两项。"
        ),
        "body": (
            "<h2>一、筑基：把组织建在攻关一线</h2>"
            "<p>一是调整支部设置。按照课题组重新划分党小组，三个攻关团队各设"
            "一名党员骨干任组长，做到项目推进到哪里、党的工作就覆盖到哪里。"
            "二是规范组织生活。固定每月第一周开展主题党日，把学习研讨与课题"
            "进度会结合起来，会前列问题、会上议办法、会后抓落实。三是压实责任"
            "链条。支部书记与课题负责人签订“双责任”清单，逐季度对账销号。</p>"
            "<h2>二、创新：以党员先锋岗破解技术难题</h2>"
            "<p>一是设立党员先锋岗。围绕纳米台阶高度测量中的温漂难题，六名党员"
            "主动认领攻关任务，三个月内将测量不确定度降低近一半。二是开展"
            "“揭榜挂帅”。支部梳理出十二项“卡脖子”问题张榜公布，青年党员揭榜"
            "率达百分之八十。三是推动成果转化。与两家制造企业共建联合实验室，"
            "把实验室里的方法写进企业的质量控制流程。</p>"
            "<h2>三、暖心：让每一名科研人员安心干事</h2>"
            "<p>一是建立谈心谈话制度，支部委员每季度与每名职工至少谈心一次。"
            "二是关心青年成长，为入职三年内的青年科研人员配备“一对一”导师。"
            "三是解决急难愁盼，协调解决职工子女入托、夜间实验交通等实际问题"
            "九件，支部的凝聚力和战斗力明显增强。</p>"
        ),
    },
    {
        "writer": "secretary1",
        "steps": [],
        "themes": ["学习教育"],
        "title": "“三会一课”进实验室 理论学习见实效",
        "tagline": "学在日常·用在攻关",
        "author_name": "王建国",
        "lead": (
            "支部探索把理论学习课堂搬进实验室，让学习从“读文件”变成“解难题”，"
            "形成了以问题为导向、以成果为检验的学习机制。"
        ),
        "body": (
            "<h2>一、学习内容跟着任务走</h2>"
            "<p>一是每次党课结合一项在研任务选题；二是邀请离退休老专家讲述"
            "计量事业发展史；三是组织青年党员轮流领学并分享体会。</p>"
            "<h2>二、学习成效用成果来检验</h2>"
            "<p>一是建立学习成果台账；二是把学习心得转化为改进建议；三是"
            "年终评选“学习型党员”。</p>"
        ),
    },
    {
        "writer": "secretary2",
        "steps": [("submit",), ("approve", "reviewer1", "")],
        "themes": ["服务民生", "科技创新"],
        "title": "守护百姓“舌尖上的安全”",
        "tagline": "标准物质里的初心",
        "author_name": "陈志远",
        "lead": (
            "标准物质研制党支部聚焦食品安全检测需求，组织党员突击队连续攻关，"
            "研制出多种农药残留检测用标准物质，为基层检测机构提供了可靠的"
            "“度量衡”。"
        ),
        "body": (
            "<h2>一、瞄准群众关切定课题</h2>"
            "<p>一是走访市场监管部门和基层检测站，收集急需的标准物质清单；"
            "二是按照群众关切程度排出研制优先顺序；三是由党员领衔组建突击队。</p>"
            "<h2>二、党员突击队攻坚克难</h2>"
            "<p>一是实行攻关任务“挂图作战”；二是建立跨支部协作机制，与分析"
            "测试支部共享仪器平台；三是开展节假日轮值，保障关键实验不断档。</p>"
            "<h2>三、把成果送到基层一线</h2>"
            "<p>一是举办标准物质使用培训班；二是为偏远地区检测站免费提供比对"
            "样品；三是开通技术咨询热线，累计解答问题三百余次。</p>"
        ),
    },
    {
        "writer": "secretary2",
        "steps": [("submit",), ("withdraw", "补充活动照片后再提交。")],
        "themes": ["文明创建"],
        "title": "志愿服务进社区 计量知识暖人心",
        "tagline": "",
        "author_name": "陈志远",
        "lead": (
            "支部党员利用周末走进社区，为居民免费检定血压计、电子秤等民生"
            "计量器具，普及计量知识。"
        ),
        "body": (
            "<h2>一、建立常态化服务机制</h2>"
            "<p>一是与三个社区签订共建协议；二是每月固定开展一次服务活动；"
            "三是建立居民需求登记台账。</p>"
        ),
    },
    {
        "writer": "correspondent1",
        "steps": [("submit",)],
        "themes": ["文明创建", "服务民生"],
        "title": "精准计量助力“菜篮子”",
        "tagline": "一杆秤里的民生温度",
        "author_name": "李晓梅",
        "lead": (
            "支部党员走进农贸市场，开展电子秤集中检定和“放心秤”设置工作，"
            "让群众买得明白、吃得放心。"
        ),
        "body": (
            "<h2>一、摸清底数</h2>"
            "<p>一是联合市场管理方逐摊登记在用计量器具；二是对投诉集中的摊位"
            "建立重点台账；三是公开检定结果接受群众监督。</p>"
            "<h2>二、常态服务</h2>"
            "<p>一是每季度开展一次集中检定；二是设置公平秤并定期校准；三是"
            "培训市场管理人员掌握简易核查方法。</p>"
        ),
    },
    {
        "writer": "secretary2",
        "steps": [
            ("submit",),
            ("approve", "reviewer1", ""),
            ("reject", "reviewer2", "与往期展播案例内容高度重复，建议另选角度。"),
        ],
        "themes": ["学习教育"],
        "title": "读书班里话初心",
        "tagline": "",
        "author_name": "陈志远",
        "lead": "支部连续三年举办青年读书班，以读促学、以学促干。",
        "body": (
            "<h2>一、精选书目</h2>"
            "<p>一是围绕理论学习列出必读书目；二是结合业务推荐专业读物；"
            "三是由青年党员自主推荐选读书目。</p>"
        ),
    },
]

CASES += [
    {
        "writer": "secretary1",
        "steps": [
            ("submit",),
            ("approve", "reviewer1", ""),
            ("approve", "reviewer2", "同意展播。"),
        ],
        "themes": ["科技创新"],
        "title": "把支部建在攻关一线",
        "tagline": "支部有力量·攻关有方向",
        "author_name": "王建国",
        "lead": (
            "面对新一代量值传递装置研制任务，支部把党小组设在项目组，"
            "让党员在关键岗位上挑大梁、当先锋。"
        ),
        "body": (
            "<h2>一、组织跟着项目走</h2>"
            "<p>一是按项目设立三个党小组；二是党小组长参加项目例会；"
            "三是每月研判一次项目风险。</p>"
            "<h2>二、党员冲在最前面</h2>"
            "<p>一是设立党员责任区；二是开展技术比武；三是建立攻关日志，"
            "记录每一次失败和改进。</p>"
            "<h2>三、成果用在生产线</h2>"
            "<p>一是与企业共建验证平台；二是组织党员送技术上门；三是把现场"
            "问题带回实验室再研究。</p>"
        ),
    },
    {
        "writer": "secretary2",
        "steps": [
            ("submit",),
            ("approve", "reviewer1", ""),
            ("approve", "reviewer2", ""),
        ],
        "themes": ["人才培养"],
        "title": "“青蓝结对”育新人",
        "tagline": "传帮带·促成长",
        "author_name": "陈志远",
        "lead": "支部推行老党员与青年科研人员“青蓝结对”，三年培养业务骨干十余名。",
        "body": (
            "<h2>一、结对有章法</h2>"
            "<p>一是双向选择确定结对关系；二是签订培养协议明确目标；三是每季度"
            "开展一次结对交流。</p>"
            "<h2>二、成长看得见</h2>"
            "<p>一是青年人员独立承担课题；二是多人取得注册计量师资格；三是"
            "两名青年科研人员递交入党申请书。</p>"
        ),
    },
    {
        "writer": "correspondent1",
        "steps": [
            ("submit",),
            ("approve", "reviewer1", ""),
            ("approve", "reviewer2", ""),
        ],
        "themes": ["服务民生", "文明创建"],
        "title": "计量开放日 走近“度量衡”",
        "tagline": "让科学走进百姓身边",
        "author_name": "李晓梅",
        "lead": "支部连续举办实验室开放日，邀请中小学生和社区居民走进计量实验室。",
        "body": (
            "<h2>一、精心设计参观路线</h2>"
            "<p>一是选取质量、长度、温度三个实验室；二是党员担任讲解员；"
            "三是设置互动体验环节。</p>"
            "<h2>二、把科普做成常态</h2>"
            "<p>一是编写通俗读本；二是录制科普短视频；三是与学校建立"
            "长期合作。</p>"
        ),
    },
    {
        "writer": "secretary2",
        "steps": [
            ("submit",),
            ("approve", "reviewer1", ""),
            ("approve", "reviewer2", ""),
        ],
        "themes": ["学习教育"],
        "title": "主题党日开在生产线",
        "tagline": "",
        "author_name": "陈志远",
        "lead": "支部把主题党日搬到企业生产线，现场帮助企业解决测量难题。",
        "body": (
            "<h2>一、带着问题去</h2>"
            "<p>一是提前收集企业测量需求；二是组建党员服务小分队；三是"
            "现场诊断测量系统。</p>"
        ),
    },
]

SERIES = {
    "slug": "dangjian-yinling",
    "title": "「党建引领」系列案例展播",
    "name": "党建引领",
    "column": "基层党建",
    "editors_note": (
        "<p>为展示基层党组织以高质量党建引领高质量发展的生动实践，"
        "人力党群部开设「党建引领」系列案例展播栏目，每周五择优刊发，"
        "敬请关注。</p>"
    ),
}
# Titles of the approved cases that make up the published issues, oldest first;
# the next approved case waits in an issue planned for the coming slot.
PUBLISHED_ISSUES = [
    ["党建引领新篇章"],
    ["把支部建在攻关一线", "“青蓝结对”育新人"],
    ["计量开放日 走近“度量衡”"],
]
PLANNED_ISSUE = ["主题党日开在生产线"]

# The demo's cases were written and reviewed over this many past days.
HISTORY_DAYS = 60

CAMPAIGN = {
    "title": "2026年度「党建引领」典型案例征集",
    "description": (
        "请各党组织围绕党建与业务深度融合，报送一至两篇党建引领典型案例。"
        "案例经初审、终审后择优在「党建引领」系列案例展播中刊发。"
    ),
}
