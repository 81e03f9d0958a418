"""Demo data for cases: the customers' names, phone prefixes, mail domains and enterprises.

Moved out of complaints.demo, which imports and re-exports these names.
"""

FAMILY = [
    ("王", "wang"), ("李", "li"), ("张", "zhang"), ("刘", "liu"), ("陈", "chen"),
    ("杨", "yang"), ("黄", "huang"), ("赵", "zhao"), ("吴", "wu"), ("周", "zhou"),
    ("徐", "xu"), ("孙", "sun"), ("马", "ma"), ("朱", "zhu"), ("胡", "hu"),
    ("郭", "guo"), ("何", "he"), ("林", "lin"), ("高", "gao"), ("罗", "luo"),
]  # fmt: skip
GIVEN = [
    ("伟", "wei"), ("芳", "fang"), ("娜", "na"), ("敏", "min"), ("静", "jing"),
    ("丽", "li"), ("强", "qiang"), ("磊", "lei"), ("军", "jun"), ("洋", "yang"),
    ("勇", "yong"), ("艳", "yan"), ("杰", "jie"), ("娟", "juan"), ("涛", "tao"),
    ("秀英", "xiuying"), ("婷婷", "tingting"), ("志强", "zhiqiang"), ("建华", "jianhua"),
    ("晓东", "xiaodong"), ("雪梅", "xuemei"), ("海燕", "haiyan"), ("子轩", "zixuan"),
    ("欣怡", "xinyi"), ("浩然", "haoran"), ("雨桐", "yutong"), ("思远", "siyuan"),
]  # fmt: skip
PHONE_PREFIXES = ["130", "131", "132", "135", "136", "137", "138", "139", "150", "151",
                  "152", "155", "157", "158", "159", "180", "181", "182", "186", "187",
                  "188", "189"]  # fmt: skip
MAIL_DOMAINS = ["163.com", "126.com", "sina.com", "foxmail.com", "outlook.com"]
ENTERPRISES = [
    ("杭州云帆电子商务有限公司", "电子商务", "yunfan-ec.com"),
    ("上海博远物流有限公司", "物流", "boyuan-logistics.cn"),
    ("深圳智联科技有限公司", "信息技术", "zhilian-tech.cn"),
    ("成都蜀味餐饮管理有限公司", "餐饮", "shuwei.com.cn"),
    ("北京启明教育科技有限公司", "教育", "qiming-edu.cn"),
    ("广州华美服饰有限公司", "服装零售", "huamei-fashion.com"),
    ("苏州恒信精密制造有限公司", "制造业", "hengxin-mfg.com"),
    ("武汉康宁医疗器械有限公司", "医疗器械", "kangning-med.cn"),
]
CUSTOMERS = 60
