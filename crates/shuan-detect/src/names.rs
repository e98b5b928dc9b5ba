//! Person names in running Chinese text, read the way a person reads them: a surname from
//! the tables, one or two given-name characters that people are actually named with, and
//! the words around them — who stands before a name (a role such as 信访人, a verb or
//! preposition such as 由/向/通知/联系, the start of a sentence, a list comma) and what
//! follows it (的, a verb such as 反映/表示/提出, a title such as 同志/主任, punctuation).
//!
//! Each piece of evidence has a weight; a candidate is a name when the sum reaches
//! [`THRESHOLD`]. The span is chosen between the one- and two-character given names by
//! which of them is followed by a context word (`李明提出` is 李明 + 提出, not 李明提).
//! Words that start with a surname character but are ordinary words (高度, 周末, 关于,
//! 任务, 文明, 林业局 …), place and organisation names (张家港市, 王府井, 华为, 万达广场) and a
//! surname followed by a title (李主任, 王科长) are rejected before scoring.
//!
//! The tables are the authors' own (see `docs/detectors.md`, "Name tables"): surnames from
//! the 2020 census ranking and the 百家姓 (public facts), given-name characters from
//! common knowledge of Chinese naming, informed by the public 2020 national name report
//! (公安部户政管理研究中心《二〇二〇年全国姓名报告》); no list was copied from another project.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use crate::charset::CharSet;
use crate::lexicon;
use crate::types::DataType;

/// Score at or above which a candidate is reported.
pub(crate) const THRESHOLD: f32 = 4.5;

const CJK_START: u32 = 0x4E00;
const CJK_END: u32 = 0x9FFF;

/// One byte per ideograph for the bound in front of the scorer (`NameModel::ctx`): half
/// the size of the flags, so that it stays in the first-level cache.
const C_LEFT_END: u8 = 1;
const C_LEFT_HI: u8 = 2;
const C_RIGHT_START: u8 = 4;
const C_RIGHT_HI: u8 = 8;
const C_TIER1: u8 = 16;
const C_TIER2: u8 = 32;
const C_BAD: u8 = 64;
const C_SURNAME: u8 = 128;

/// Number of ideographs U+4E00..=U+9FFF: indexes from U+4E00 below this are ideographs.
pub(crate) const IDEOGRAPHS: usize = (CJK_END - CJK_START + 1) as usize;

/// Length of the `ctx` table: a power of two above the ideographs' 20,992, so that an
/// index masked with `CTX_LEN - 1` needs no bounds check.
const CTX_LEN: usize = 1 << 15;

/// Indexes of 员 and 人 from U+4E00.
const IDX_YUAN: usize = '员' as usize - CJK_START as usize;
const IDX_REN: usize = '人' as usize - CJK_START as usize;

/// Per-character flags over U+4E00..=U+9FFF.
pub(crate) const F_CUE: u16 = 1; // starts a cue word of the scanner (addresses, provinces)
pub(crate) const F_SURNAME: u16 = 2; // single surname, or first char of a compound one
const F_COMMON: u16 = 4; // one of the most frequent surnames
const F_FUNC: u16 = 8; // surname that is also an everyday function word (和, 于, 向 …)
const F_TIER1: u16 = 16; // very common given-name character
const F_TIER2: u16 = 32; // common given-name character
const F_BAD: u16 = 64; // almost never in a given name (的, 局, 要求 …)
const F_SINGLE: u16 = 128; // single-character surname
const F_COMPOUND: u16 = 256; // first character of a compound surname
const F_LEFT_END: u16 = 512; // last character of a word that may stand before a name
const F_RIGHT_START: u16 = 1024; // first character of a word that may follow a name
const F_LEFT_HI: u16 = 2048; // ... of a word of weight ≥ 2.5 standing before a name
const F_RIGHT_HI: u16 = 4096; // ... of a word of weight ≥ 2.5 following a name

/// The 100 most frequent surnames (2020 census order), a small bonus of evidence.
const COMMON_SURNAMES: &str = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤";

/// Characters very often used in given names.
const GIVEN_TIER1: &str = "伟芳娜敏静丽强磊军洋勇艳杰涛明超秀英霞平刚桂华建国志海燕玉兰红文辉峰斌鹏飞婷雪梅琳丹萍波宇浩凯鑫俊帅佳欣怡晨阳博晓东云龙林亮成新春金荣秋菊凤珍莉娟颖慧琴倩蕾璐瑶琪晶莹嘉梓涵轩泽睿昊思雨诗悦依若紫梦瑞彤宁安乐健康永德胜利福贵祥发荣光耀庆喜忠义仁智毅坚锋兵武彬松柏森青清泉江河洪冰霜露虹雷娇媛婉淑贤惠巧美艺茹雅蓉薇莎玲翠香花彩月星辰旭昕晗曦妍婧岚钰瑾璇琦珊玮炜昌盛兴旺财富宝顺和乾坤振宏伦鸿远航毓卓越豪杰冬夏梁栋凯奇磊鹤翔腾达锦绣琼瑛";

/// Characters less often, but regularly, used in given names.
const GIVEN_TIER2: &str = "一二三四五六七八九十子天之山水石木火土田中正方立元长生良友全君民声力功先仕以可宜玄白世大小少进运通开广廷亭亚允兆光克全军农冠凡凌初利华卫卿厚友双发古可史吉同向吴启周和咏品哲唐善嘉四国圣均坚培基堂增士壮复夫奎好如妙姗威娥娴婕婵媚孝孟学宇守安宏宗宜实宪宣家容宽寿尚岗岩峻崇川州巍巧帆希常平年庆延建弘强彦彪征德心志忠念怀恒恩悦惠想意慈成战才振捷敏文斌新方旭昊昆昭晋景智曼月朋朗李杨杭杰松林柯栋树桐桥梅森楠槐欢正武毛民永汉汝江池沛治泰洁津浩海涌润淼添清渊源溪滨潇潮澄灵炎烈焕然煜照熙燕爱牧玉王玫珂珍琛瑜瑞璋生男畅登白百益盈真睿石磊碧祖祝神祥禄福秀秉科秋程穗空立章童端竹笑策简精素红纪纯纲维绮绪缘罗美群羽翊翼耀聪胜自臣舒航良艳芝芬芸苗若英茂茵荷莉莲莹菁萌萱蒙蓓蔚藏虎蛟融行裕西観言诚语谦豪贞贤贵赫超路辉达迎进远连迪通道遥邦郁酉金鉴钢钦铭锐锦镇长闯闻阁阳雁雄雅集霖霞青静非韬韵顺颂风飞香馨骏鸣鹏黎鼎龙";

/// Characters that almost never stand in a given name but follow surnames in ordinary
/// text: function words, verbs of officialese, organisation and document words.
const BAD_GIVEN: &str = "的了是在要求提出请反映表示说称办理局部市区县省院厅处科室所队站业务政府关于对将已被把从由个们这那些就都也还又不没无该须需过行推落实作管问题况材料门单位规定意见知决案制度措施活动项目费用协议报告记录息数据统台网络话码址期次件条款级类等及与或并但而因以之其此本各每某姓氏主任员会议记经总负责工法律条例办公厅支队心街社区村委镇乡派出检察审判执行核查调查检查查处处罚罚款";

/// Ordinary words that begin with a surname character, and place or organisation names
/// that begin like a personal name. A candidate starting with one is not a name.
const NOT_NAMES: &[&str] = &[
    "王府井",
    "王国",
    "王牌",
    "张贴",
    "张家港",
    "张家口",
    "张家界",
    "张榜",
    "陈述",
    "陈列",
    "陈旧",
    "陈设",
    "杨树",
    "杨柳",
    "黄金",
    "黄河",
    "黄色",
    "黄山",
    "黄埔",
    "黄牌",
    "黄页",
    "吴江",
    "周末",
    "周期",
    "周边",
    "周年",
    "周一",
    "周二",
    "周三",
    "周四",
    "周五",
    "周六",
    "周日",
    "周围",
    "周转",
    "周知",
    "周密",
    "周到",
    "周岁",
    "周报",
    "徐州",
    "徐汇",
    "孙子",
    "马上",
    "马路",
    "马克思",
    "马拉松",
    "马鞍山",
    "胡同",
    "胡乱",
    "何时",
    "何种",
    "何地",
    "何处",
    "何人",
    "何况",
    "何必",
    "何以",
    "何等",
    "何谓",
    "高度",
    "高速",
    "高级",
    "高新",
    "高效",
    "高质量",
    "高校",
    "高中",
    "高考",
    "高层",
    "高温",
    "高发",
    "高危",
    "高等",
    "高价",
    "高铁",
    "高额",
    "高压",
    "高空",
    "高端",
    "高于",
    "高峰期",
    "高峰时段",
    "高标准",
    "高水平",
    "高风险",
    "高龄",
    "林业",
    "林地",
    "林区",
    "林场",
    "林木",
    "林草",
    "罗列",
    "郑州",
    "郑重",
    "谢谢",
    "谢绝",
    "宋体",
    "唐山",
    "许可",
    "许多",
    "许诺",
    "韩国",
    "曾经",
    "曾任",
    "曾在",
    "曾被",
    "曾因",
    "曾于",
    "曾多次",
    "肖像",
    "田地",
    "田间",
    "田园",
    "董事",
    "于是",
    "于此",
    "余额",
    "余下",
    "余款",
    "余地",
    "余量",
    "杜绝",
    "程序",
    "程度",
    "程式",
    "苏州",
    "丁香",
    "任务",
    "任何",
    "任职",
    "任命",
    "任期",
    "任意",
    "任免",
    "任用",
    "任教",
    "沈阳",
    "钟表",
    "陆续",
    "陆地",
    "陆军",
    "范围",
    "范畴",
    "范本",
    "范例",
    "金额",
    "金融",
    "金属",
    "金牌",
    "金色",
    "金钱",
    "石油",
    "石化",
    "石头",
    "石家庄",
    "石材",
    "夏季",
    "夏天",
    "付款",
    "付费",
    "付出",
    "付清",
    "方面",
    "方案",
    "方式",
    "方法",
    "方向",
    "方针",
    "方便",
    "方可",
    "方能",
    "方位",
    "方言",
    "方才",
    "白天",
    "白色",
    "白银",
    "白酒",
    "白领",
    "熊猫",
    "秦皇岛",
    "江苏",
    "江西",
    "江门",
    "江北",
    "江南",
    "江河",
    "江湖",
    "段落",
    "雷电",
    "龙头",
    "龙岗",
    "史料",
    "史上",
    "陶瓷",
    "黎明",
    "贺信",
    "贺电",
    "顾客",
    "顾问",
    "顾及",
    "毛病",
    "毛巾",
    "毛利",
    "万元",
    "万人",
    "万一",
    "万户",
    "万达",
    "万物",
    "万家",
    "钱款",
    "钱财",
    "严格",
    "严重",
    "严肃",
    "严厉",
    "严禁",
    "严守",
    "严防",
    "严把",
    "严查",
    "武汉",
    "武装",
    "武警",
    "武器",
    "孔子",
    "向前",
    "向上",
    "常规",
    "常态",
    "常用",
    "常见",
    "常住",
    "常务",
    "常委",
    "常年",
    "常驻",
    "常州",
    "温度",
    "温馨",
    "温州",
    "康复",
    "施工",
    "施行",
    "文明",
    "文件",
    "文化",
    "文字",
    "文书",
    "文本",
    "文档",
    "文号",
    "文物",
    "文旅",
    "文体",
    "文艺",
    "牛奶",
    "安全",
    "安排",
    "安置",
    "安装",
    "安徽",
    "安防",
    "安保",
    "安定",
    "安居",
    "安心",
    "齐全",
    "齐心",
    "易于",
    "庞大",
    "颜色",
    "庄严",
    "章程",
    "岳阳",
    "申请",
    "申报",
    "申领",
    "申诉",
    "申办",
    "欧洲",
    "欧元",
    "关于",
    "关系",
    "关注",
    "关键",
    "关心",
    "关闭",
    "关联",
    "关口",
    "关爱",
    "关怀",
    "关停",
    "兰州",
    "焦点",
    "左右",
    "左侧",
    "柳州",
    "甘肃",
    "祝贺",
    "包括",
    "包含",
    "包装",
    "包村",
    "宁夏",
    "宁波",
    "宁可",
    "尚未",
    "尚不",
    "尚需",
    "尚在",
    "尚有",
    "符合",
    "纪律",
    "纪检",
    "纪要",
    "纪念",
    "纪委",
    "纪录",
    "凌晨",
    "毕业",
    "毕竟",
    "单位",
    "单独",
    "单据",
    "单元",
    "单价",
    "季度",
    "季节",
    "成立",
    "成为",
    "成果",
    "成本",
    "成员",
    "成绩",
    "成功",
    "成效",
    "成都",
    "成熟",
    "成交",
    "蓝色",
    "蓝天",
    "路段",
    "路口",
    "路线",
    "路面",
    "游客",
    "辛苦",
    "管理",
    "管控",
    "管辖",
    "管道",
    "蒙古",
    "华为",
    "华南",
    "华北",
    "华东",
    "华侨",
    "房屋",
    "房产",
    "房间",
    "房租",
    "房地产",
    "解决",
    "解释",
    "解除",
    "解答",
    "尤其",
    "阳光",
    "阳台",
    "时间",
    "时候",
    "时期",
    "时限",
    "时效",
    "时代",
    "时刻",
    "时任",
    "农村",
    "农业",
    "农民",
    "农户",
    "农田",
    "司法",
    "司机",
    "吉林",
    "简化",
    "简单",
    "简称",
    "简易",
    "车辆",
    "车主",
    "车位",
    "车牌",
    "车站",
    "项目",
    "连续",
    "连接",
    "连同",
    "景区",
    "景点",
    "党委",
    "党员",
    "党组",
    "党支部",
    "党建",
    "党中央",
    "党政",
    "费用",
    "冷链",
    "卫生",
    "卫健",
    "宗教",
    "宗旨",
    "桂林",
    "全面",
    "全部",
    "全国",
    "全省",
    "全市",
    "全区",
    "全县",
    "全体",
    "全年",
    "全力",
    "全程",
    "全员",
    "全额",
    "全文",
    "应当",
    "应该",
    "应急",
    "应用",
    "应对",
    "应予",
    "边境",
    "师生",
    "和谐",
    "商品",
    "商务",
    "商户",
    "商业",
    "商家",
    "商场",
    "荣誉",
    "荣获",
    "仲裁",
    "巩固",
    "明确",
    "明显",
    "明细",
    "明天",
    "明年",
    "明日",
    "查询",
    "查处",
    "查看",
    "查明",
    "查验",
    "查阅",
    "查封",
    "查办",
    "查实",
    "麻烦",
    "官方",
    "官网",
    "封闭",
    "谈话",
    "惠民",
    "南京",
    "南宁",
    "南昌",
    "南方",
    "班子",
    "储存",
    "储蓄",
    "原则",
    "原因",
    "原来",
    "原告",
    "原件",
    "原有",
    "劳动",
    "劳务",
    "楼层",
    "盘点",
    "满意",
    "满足",
    "位于",
    "位置",
    "区域",
    "海关",
    "海南",
    "海淀",
    "权利",
    "权益",
    "权限",
    "强化",
    "强调",
    "强制",
    "盖章",
    "廉政",
    "丰富",
    "支持",
    "支付",
    "支部",
    "国家",
    "国务院",
    "国际",
    "国内",
    "国有",
    "国土",
    "国庆",
    "平台",
    "平安",
    "平均",
    "平时",
    "计划",
    "计算",
    "宣传",
    "宣布",
    "相关",
    "相应",
    "相互",
    "相同",
    "初步",
    "初次",
    "门口",
    "门诊",
    "云南",
    "容易",
    "敬请",
    "来电",
    "来访",
    "来信",
    "来源",
    "普通",
    "普遍",
    "普查",
    "浦东",
    "修改",
    "修订",
    "杭州",
    "那么",
    "那些",
    "宿舍",
    "印发",
    "隆重",
    "诸如",
    "战略",
    "危险",
    "危害",
    "银行",
    "公司",
    "公安",
    "公民",
    "公共",
    "公开",
    "公告",
    "公示",
    "公众",
    "哈尔滨",
    "利用",
    "利益",
    "呼吁",
    "居民",
    "居住",
    "干部",
    "但是",
    "信息",
    "信访",
    "信用",
    "展开",
    "展示",
    "智能",
    "智慧",
    "幸福",
    "由于",
    "全体",
    "相关",
    "主治",
    "有关",
    "乡村",
    "包保",
    "责任",
    "首席",
    "资深",
    "兼职",
    "执业",
    "专职",
    "诸位",
    "那位",
    "高级",
    "年轻",
    "值班",
    "其他",
    "秦岭",
    "黄冈",
    "洪水",
    "洪涝",
    "曲线",
    "盛夏",
    "谷歌",
    "景观",
    "祁连",
    "江汉",
    "安阳",
    "湛江",
    "元旦",
    "信件",
    "植物",
    "衡量",
    "谭某",
    "宁德",
    "丰台",
    "龙华",
    "华润",
    "苏宁",
    "国美",
    "万科",
    "恒大",
    "碧桂园",
    "海尔",
    "格力",
    "美的",
    "京东",
    "阿里",
    "腾讯",
    "百度",
    "小米",
    "联想",
    "平安",
    "招商",
    "中信",
    "光大",
    "民生",
    "兴业",
    "浦发",
    "华夏",
    "广发",
    "交通",
    "建设",
    "农业",
    "工商",
    "金山",
    "金龙",
    "金牛",
    "贵阳",
    "贵州",
    "哈希",
    "同上",
    "公平",
    "公正",
    "公道",
    "柯桥",
    "温江",
    "宜宾",
    "宜昌",
    "常德",
    "常熟",
    "雷锋",
    "焦作",
    "鞍山",
    "莫斯科",
];

/// A surname directly followed by one of these is a way of addressing someone, not a
/// name (李主任, 王科长, 张老师); nor is 某/某某 (an already pseudonymised name).
const TITLES: &[&str] = &[
    "主任",
    "科长",
    "局长",
    "处长",
    "部长",
    "厅长",
    "院长",
    "所长",
    "队长",
    "站长",
    "村长",
    "组长",
    "社长",
    "县长",
    "市长",
    "镇长",
    "乡长",
    "书记",
    "经理",
    "总",
    "董",
    "工",
    "老师",
    "师傅",
    "先生",
    "女士",
    "小姐",
    "同志",
    "医生",
    "大夫",
    "护士",
    "律师",
    "警官",
    "教授",
    "博士",
    "会计",
    "阿姨",
    "大爷",
    "大妈",
    "大姐",
    "大哥",
    "奶奶",
    "爷爷",
    "某",
    "姓",
    "家",
    "氏",
    "老",
    "总监",
    "委员",
    "代表",
    "秘书",
    "助理",
    "主席",
    "专员",
    "干事",
    "科员",
    "警官",
    "法官",
    "检察官",
];

/// Organisation or place words: a candidate followed by one is the start of a place or an
/// organisation name (张家港市, 万达广场, 王府井街道).
const ORG_SUFFIXES: &[&str] = &[
    "公司",
    "集团",
    "银行",
    "医院",
    "大学",
    "学院",
    "中学",
    "小学",
    "学校",
    "广场",
    "大厦",
    "中心",
    "街道",
    "社区",
    "派出所",
    "超市",
    "商场",
    "酒店",
    "宾馆",
    "饭店",
    "餐厅",
    "市场",
    "花园",
    "小区",
    "新村",
    "工业园",
    "开发区",
    "有限",
    "股份",
    "科技",
    "实业",
    "贸易",
    "物业",
    "律所",
    "事务所",
    "办事处",
    "委员会",
    "村委",
    "居委",
    "管委",
    "路",
    "街",
    "巷",
    "港",
    "市",
    "县",
    "区",
    "省",
    "镇",
    "乡",
    "村",
    "局",
    "厅",
    "委",
    "站",
    "校",
    "馆",
    "店",
    "厂",
    "司",
    "府",
    "州",
    "庄",
    "井",
    "桥",
    "湾",
    "镇",
    "寺",
    "庙",
    "楼",
    "苑",
    "牌",
    "号",
];

/// Words that end right before a name: roles (申请人, 信访人 …), titles written before a
/// name (主任, 局长), verbs and prepositions that take a person (由, 向, 通知, 联系, 委托 …),
/// with their weight.
const LEFT_CUES: &[(&str, f32)] = &[
    ("姓名", 3.0),
    ("名字", 3.0),
    ("联系人", 3.0),
    ("收件人", 3.0),
    ("收货人", 3.0),
    ("户主", 3.0),
    ("申请人", 3.0),
    ("被申请人", 3.0),
    ("患者", 3.0),
    ("法定代表人", 3.0),
    ("法人代表", 3.0),
    ("法人", 3.0),
    ("负责人", 3.0),
    ("经办人", 3.0),
    ("承办人", 3.0),
    ("监护人", 3.0),
    ("当事人", 3.0),
    ("信访人", 3.0),
    ("投诉人", 3.0),
    ("被投诉人", 3.0),
    ("举报人", 3.0),
    ("被举报人", 3.0),
    ("来访人", 3.0),
    ("反映人", 3.0),
    ("犯罪嫌疑人", 3.0),
    ("嫌疑人", 3.0),
    ("被告人", 3.0),
    ("被告", 3.0),
    ("原告", 3.0),
    ("第三人", 3.0),
    ("证人", 3.0),
    ("委托人", 3.0),
    ("受托人", 3.0),
    ("代理人", 3.0),
    ("报案人", 3.0),
    ("驾驶人", 3.0),
    ("车主", 3.0),
    ("持卡人", 3.0),
    ("开户人", 3.0),
    ("户名", 3.0),
    ("被保险人", 3.0),
    ("投保人", 3.0),
    ("受益人", 3.0),
    ("家属", 3.0),
    ("配偶", 3.0),
    ("父亲", 3.0),
    ("母亲", 3.0),
    ("丈夫", 3.0),
    ("妻子", 3.0),
    ("儿子", 3.0),
    ("女儿", 3.0),
    ("联络人", 3.0),
    ("签收人", 3.0),
    ("填表人", 3.0),
    ("审核人", 3.0),
    ("审批人", 3.0),
    ("记录人", 3.0),
    ("登记人", 3.0),
    ("接待人", 3.0),
    ("值班人", 3.0),
    ("学生", 2.5),
    ("客户", 3.0),
    ("业主", 3.0),
    ("租户", 3.0),
    ("房东", 3.0),
    ("村民", 3.0),
    ("居民", 3.0),
    ("群众", 3.0),
    ("职工", 3.0),
    ("员工", 3.0),
    ("工人", 3.0),
    ("老人", 3.0),
    ("同志", 2.5),
    ("主任", 3.0),
    ("副主任", 3.0),
    ("科长", 3.0),
    ("局长", 3.0),
    ("处长", 3.0),
    ("部长", 3.0),
    ("厅长", 3.0),
    ("院长", 3.0),
    ("所长", 3.0),
    ("队长", 3.0),
    ("站长", 3.0),
    ("村长", 3.0),
    ("组长", 3.0),
    ("书记", 3.0),
    ("经理", 3.0),
    ("主席", 3.0),
    ("科员", 3.0),
    ("民警", 3.0),
    ("律师", 3.0),
    ("医生", 3.0),
    ("记者", 3.0),
    ("网格员", 3.0),
    ("工作人员", 3.0),
    ("由", 2.0),
    ("向", 2.0),
    ("请", 2.0),
    ("通知", 2.5),
    ("联系", 2.5),
    ("告知", 2.5),
    ("致电", 2.5),
    ("委托", 2.5),
    ("授权", 2.5),
    ("约谈", 2.5),
    ("陪同", 2.5),
    ("会同", 2.0),
    ("协助", 2.0),
    ("接待", 2.5),
    ("走访", 2.5),
    ("询问", 2.5),
    ("看望", 2.5),
    ("慰问", 2.5),
    ("督促", 2.5),
    ("批评", 2.0),
    ("表扬", 2.0),
    ("任命", 2.5),
    ("选举", 2.0),
    ("推荐", 2.0),
    ("交由", 2.5),
    ("转交", 2.5),
    ("转告", 2.5),
    ("送达", 2.0),
    ("提醒", 2.0),
    ("指派", 2.5),
    ("安排", 2.0),
    ("以及", 2.0),
    ("或者", 1.5),
    ("与", 2.0),
    ("和", 1.5),
    ("及", 1.5),
    ("同", 1.5),
    ("给", 1.5),
    ("对", 1.0),
    ("把", 1.0),
    ("被", 1.5),
    ("让", 1.5),
    ("叫", 1.5),
    ("找", 1.5),
    ("据", 1.5),
    ("经", 1.5),
    ("致", 1.5),
    ("告诉", 2.0),
    ("关于", 2.0),
    ("报警人", 3.0),
    ("求助人", 3.0),
    ("受害人", 3.0),
    ("被害人", 3.0),
    ("死者", 3.0),
    ("伤者", 3.0),
    ("考生", 3.0),
    ("学员", 3.0),
    ("会员", 3.0),
    ("党员", 3.0),
    ("干部", 3.0),
    ("教师", 3.0),
    ("医师", 3.0),
    ("护士", 3.0),
    ("司机", 3.0),
    ("农民", 3.0),
    ("农户", 3.0),
    ("村干部", 3.0),
    ("社工", 3.0),
    ("志愿者", 3.0),
    ("选手", 3.0),
    ("作者", 3.0),
    ("主持人", 3.0),
    ("发起人", 3.0),
    ("创始人", 3.0),
    ("股东", 3.0),
    ("董事", 3.0),
    ("监事", 3.0),
    ("出资人", 3.0),
    ("合伙人", 3.0),
    ("借款人", 3.0),
    ("出借人", 3.0),
    ("贷款人", 3.0),
    ("担保人", 3.0),
    ("保证人", 3.0),
    ("申报人", 3.0),
    ("纳税人", 3.0),
    ("收款人", 3.0),
    ("付款人", 3.0),
    ("领款人", 3.0),
    ("承租人", 3.0),
    ("出租人", 3.0),
    ("买受人", 3.0),
    ("出卖人", 3.0),
    ("继承人", 3.0),
    ("被继承人", 3.0),
    ("赠与人", 3.0),
    ("受赠人", 3.0),
    ("申诉人", 3.0),
    ("上访人", 3.0),
    ("相对人", 3.0),
    ("行为人", 3.0),
    ("责任人", 3.0),
    ("陪同人", 3.0),
    ("见证人", 3.0),
    ("鉴定人", 3.0),
    ("受送达人", 3.0),
    ("送达人", 3.0),
    ("审判员", 3.0),
    ("书记员", 3.0),
    ("调解员", 3.0),
    ("人民调解员", 3.0),
    ("仲裁员", 3.0),
    ("检察员", 3.0),
    ("辅警", 3.0),
    ("保安", 3.0),
    ("店主", 3.0),
    ("摊主", 3.0),
    ("房主", 3.0),
    ("租客", 3.0),
    ("住户", 3.0),
    ("网民", 3.0),
    ("游客", 3.0),
    ("乘客", 3.0),
    ("顾客", 3.0),
    ("消费者", 3.0),
    ("用户", 3.0),
    ("商户", 3.0),
    ("个体户", 3.0),
    ("老板", 3.0),
    ("厨师", 3.0),
    ("教练", 3.0),
    ("导游", 3.0),
    ("医护人员", 3.0),
    ("由于", 1.5),
    ("接到", 2.0),
    ("要求", 1.5),
    ("诉", 2.0),
    ("市民", 3.0),
    ("网友", 3.0),
    ("上诉人", 3.0),
    ("被上诉人", 3.0),
    ("法官", 3.0),
    ("检察官", 3.0),
    ("区长", 3.0),
    ("市长", 3.0),
    ("县长", 3.0),
    ("镇长", 3.0),
    ("乡长", 3.0),
    ("省长", 3.0),
    ("本人", 3.0),
    ("支书", 3.0),
    ("其妻", 3.0),
    ("其夫", 3.0),
    ("其子", 3.0),
    ("其女", 3.0),
    ("妻子", 3.0),
    ("将", 1.5),
    ("了", 1.0),
    ("即", 1.0),
    ("为", 1.0),
    ("是", 1.0),
    ("系", 1.5),
];

/// Words that follow a name: what people do in such texts, titles, field words of a form,
/// the possessive 的, with their weight.
const RIGHT_CUES: &[(&str, f32)] = &[
    ("同志", 3.0),
    ("先生", 3.0),
    ("女士", 3.0),
    ("老师", 3.0),
    ("医生", 3.0),
    ("律师", 3.0),
    ("警官", 3.0),
    ("师傅", 3.0),
    ("同学", 3.0),
    ("主任", 3.0),
    ("副主任", 3.0),
    ("科长", 3.0),
    ("局长", 3.0),
    ("处长", 3.0),
    ("书记", 3.0),
    ("经理", 3.0),
    ("院长", 3.0),
    ("所长", 3.0),
    ("队长", 3.0),
    ("站长", 3.0),
    ("村长", 3.0),
    ("组长", 3.0),
    ("部长", 3.0),
    ("教授", 3.0),
    ("等人", 3.0),
    ("夫妇", 3.0),
    ("本人", 2.5),
    ("一家", 2.0),
    ("之子", 2.5),
    ("之女", 2.5),
    ("之妻", 2.5),
    ("之夫", 2.5),
    ("之父", 2.5),
    ("之母", 2.5),
    ("家中", 2.0),
    ("的", 2.0),
    ("辩称", 2.0),
    ("供述", 2.0),
    ("承认", 2.0),
    ("否认", 2.0),
    ("声明", 2.0),
    ("证明", 2.0),
    ("证实", 2.0),
    ("反馈", 2.0),
    ("质疑", 2.0),
    ("坚持", 2.0),
    ("希望", 2.0),
    ("请求", 2.0),
    ("恳请", 2.0),
    ("表态", 2.0),
    ("透露", 2.0),
    ("坦言", 2.0),
    ("回忆", 2.0),
    ("告诉", 2.0),
    ("听说", 2.0),
    ("看到", 2.0),
    ("得知", 2.0),
    ("带着", 2.0),
    ("带领", 2.0),
    ("带来", 2.0),
    ("拿着", 2.0),
    ("开车", 2.0),
    ("驾车", 2.0),
    ("骑车", 2.0),
    ("步行", 2.0),
    ("乘坐", 2.0),
    ("来到", 2.0),
    ("赶到", 2.0),
    ("回到", 2.0),
    ("离开", 2.0),
    ("进入", 2.0),
    ("走进", 2.0),
    ("住在", 2.0),
    ("现居住", 2.0),
    ("居住在", 2.0),
    ("出生于", 2.0),
    ("毕业于", 2.0),
    ("就读于", 2.0),
    ("任职于", 2.0),
    ("作为", 2.0),
    ("成为", 2.0),
    ("当选", 2.0),
    ("获得", 2.0),
    ("荣获", 2.0),
    ("获评", 2.0),
    ("被评为", 2.0),
    ("被授予", 2.0),
    ("受到", 2.0),
    ("遭到", 2.0),
    ("受伤", 2.0),
    ("死亡", 2.0),
    ("失踪", 2.0),
    ("失联", 2.0),
    ("走失", 2.0),
    ("入院", 2.0),
    ("出院", 2.0),
    ("住院", 2.0),
    ("就医", 2.0),
    ("报名", 2.0),
    ("登记", 2.0),
    ("注册", 2.0),
    ("提起", 2.0),
    ("诉至", 2.0),
    ("赔偿", 2.0),
    ("补偿", 2.0),
    ("退还", 2.0),
    ("偿还", 2.0),
    ("归还", 2.0),
    ("借给", 2.0),
    ("出借", 2.0),
    ("出租", 2.0),
    ("转让", 2.0),
    ("继承", 2.0),
    ("赠与", 2.0),
    ("出资", 2.0),
    ("投资", 2.0),
    ("入股", 2.0),
    ("持股", 2.0),
    ("拒不", 2.0),
    ("未能", 2.0),
    ("没有", 2.0),
    ("无法", 2.0),
    ("不能", 2.0),
    ("不愿", 2.0),
    ("愿意", 2.0),
    ("决定", 2.0),
    ("打算", 2.0),
    ("准备", 2.0),
    ("开始", 2.0),
    ("继续", 2.0),
    ("仍然", 2.0),
    ("依然", 2.0),
    ("始终", 2.0),
    ("亲自", 2.0),
    ("独自", 2.0),
    ("一人", 2.0),
    ("自愿", 2.0),
    ("擅自", 2.0),
    ("私自", 2.0),
    ("涉嫌", 2.0),
    ("因涉嫌", 2.0),
    ("犯", 2.0),
    ("被判", 2.0),
    ("被判处", 2.0),
    ("被处以", 2.0),
    ("被罚", 2.0),
    ("被拘留", 2.0),
    ("被行政拘留", 2.0),
    ("被刑事拘留", 2.0),
    ("被逮捕", 2.0),
    ("被起诉", 2.0),
    ("被告知", 2.0),
    ("被通知", 2.0),
    ("被打", 2.0),
    ("被骗", 2.0),
    ("被盗", 2.0),
    ("被困", 2.0),
    ("获救", 2.0),
    ("遇难", 2.0),
    ("身亡", 2.0),
    ("去向", 2.0),
    ("下落", 2.0),
    ("名义", 2.0),
    ("签署", 2.0),
    ("签了", 2.0),
    ("按了", 2.0),
    ("递交", 2.0),
    ("上交", 2.0),
    ("交来", 2.0),
    ("寄来", 2.0),
    ("发来", 2.0),
    ("打来", 2.0),
    ("写信", 2.0),
    ("留言", 2.0),
    ("发帖", 2.0),
    ("在线", 2.0),
    ("通过", 2.0),
    ("利用", 2.0),
    ("使用", 2.0),
    ("冒用", 2.0),
    ("盗用", 2.0),
    ("伪造", 2.0),
    ("骗取", 2.0),
    ("侵占", 2.0),
    ("挪用", 2.0),
    ("殴打", 2.0),
    ("辱骂", 2.0),
    ("威胁", 2.0),
    ("恐吓", 2.0),
    ("阻止", 2.0),
    ("阻拦", 2.0),
    ("拒绝", 2.0),
    ("配合", 2.0),
    ("协助", 2.0),
    ("参与", 2.0),
    ("组织", 2.0),
    ("策划", 2.0),
    ("指使", 2.0),
    ("雇佣", 2.0),
    ("雇用", 2.0),
    ("聘请", 2.0),
    ("委派", 2.0),
    ("派出", 2.0),
    ("派遣", 2.0),
    ("到", 1.5),
    ("作出", 2.0),
    ("建议", 2.0),
    ("现任", 2.5),
    ("带队", 2.0),
    ("所述", 2.0),
    ("所说", 2.0),
    ("诉", 2.0),
    ("精神", 2.0),
    ("故居", 2.5),
    ("纪念馆", 2.5),
    ("事迹", 2.5),
    ("代为", 2.5),
    ("携带", 2.0),
    ("申报", 2.0),
    ("了解", 2.0),
    ("核实", 2.0),
    ("送达", 2.0),
    ("相关", 1.5),
    ("上门", 2.0),
    ("老人", 2.5),
    ("家", 1.5),
    ("均", 1.5),
    ("协议", 1.5),
    ("反映", 2.5),
    ("表示", 2.5),
    ("提出", 2.5),
    ("提交", 2.5),
    ("提供", 2.0),
    ("申请", 2.5),
    ("要求", 2.0),
    ("认为", 2.5),
    ("同意", 2.0),
    ("签字", 2.5),
    ("签名", 2.5),
    ("签收", 2.5),
    ("来电", 2.5),
    ("来访", 2.5),
    ("来信", 2.5),
    ("投诉", 2.5),
    ("举报", 2.5),
    ("办理", 2.0),
    ("负责", 2.5),
    ("承办", 2.5),
    ("联系", 2.0),
    ("委托", 2.5),
    ("前往", 2.0),
    ("户籍", 2.0),
    ("身份", 2.0),
    ("电话", 2.0),
    ("手机", 2.0),
    ("性别", 2.5),
    ("年龄", 2.5),
    ("出生", 2.0),
    ("家住", 2.5),
    ("居住", 2.0),
    ("住", 1.0),
    ("不服", 2.5),
    ("诉称", 3.0),
    ("陈述", 2.5),
    ("介绍", 2.0),
    ("回复", 2.0),
    ("答复", 2.0),
    ("确认", 2.0),
    ("领取", 2.5),
    ("缴纳", 2.0),
    ("拨打", 2.0),
    ("驾驶", 2.0),
    ("持有", 2.0),
    ("名下", 3.0),
    ("担任", 2.5),
    ("任职", 2.5),
    ("咨询", 2.5),
    ("询问", 2.0),
    ("主动", 2.0),
    ("多次", 2.0),
    ("再次", 2.0),
    ("一直", 2.0),
    ("共同", 2.0),
    ("分别", 2.0),
    ("随后", 2.0),
    ("当即", 2.0),
    ("收到", 2.0),
    ("发现", 2.0),
    ("拒绝", 2.0),
    ("声称", 3.0),
    ("称", 2.0),
    ("说", 2.0),
    ("向", 1.5),
    ("对", 1.0),
    ("于", 1.5),
    ("在", 1.5),
    ("已", 1.5),
    ("将", 1.5),
    ("因", 1.5),
    ("系", 2.0),
    ("是", 1.5),
    ("为", 1.0),
    ("与", 2.0),
    ("和", 1.5),
    ("及", 1.5),
    ("等", 2.0),
    ("也", 1.5),
    ("都", 1.0),
    ("又", 1.5),
    ("曾", 1.5),
    ("被", 1.5),
    ("把", 1.5),
    ("从", 1.0),
    ("就", 1.5),
    ("未", 1.5),
    ("还", 1.0),
    ("便", 1.0),
    ("即", 1.0),
    ("并", 1.5),
    ("应", 1.0),
    ("需", 1.0),
    ("给", 1.0),
    ("让", 1.0),
    ("男", 2.5),
    ("女", 2.0),
    ("今年", 2.0),
    ("年满", 2.5),
    ("上访", 2.5),
    ("信访", 2.0),
    ("报案", 2.5),
    ("报警", 2.5),
    ("起诉", 2.5),
    ("上诉", 2.5),
    ("申诉", 2.5),
    ("去世", 2.5),
    ("病逝", 2.5),
    ("患有", 2.5),
    ("参加", 2.0),
    ("出席", 2.0),
    ("主持", 2.0),
    ("陪同", 2.0),
    ("接待", 2.0),
    ("指出", 2.0),
    ("强调", 2.0),
    ("汇报", 2.0),
    ("填写", 2.0),
    ("借款", 2.0),
    ("欠款", 2.0),
    ("支付", 2.0),
    ("签订", 2.0),
    ("购买", 2.0),
    ("租赁", 2.0),
    ("承包", 2.0),
    ("经营", 2.0),
    ("名义", 2.5),
    ("父子", 2.5),
    ("母女", 2.5),
    ("夫妻", 2.5),
    ("二人", 2.5),
    ("两人", 2.5),
    ("一行", 2.0),
    ("现年", 3.0),
    ("现住", 2.5),
    ("民族", 2.5),
    ("籍贯", 2.5),
    ("学历", 2.0),
    ("职业", 2.0),
    ("单位", 1.5),
    ("证件", 2.0),
    ("号码", 1.0),
    ("邮箱", 2.0),
    ("地址", 1.5),
    ("住址", 2.0),
];

/// Characters that end a name when they follow a one-character given name: a given
/// name is one character when its would-be second character is one of these and the
/// shorter name has a context word after it (`张伟说`, `李明和王芳`).
const CUE_CHARS: &str = "的和与及在于等是说称向已将也都又曾被把从就未并给让、";

/// Characters that end place names far more often than given names (张家湾, 李家村,
/// 王家坝): a three-character candidate ending in one is not taken.
const PLACE_TAILS: &str = "村庄湾沟坝峡屯堡寨镇滩渡洼窑畈集营岭塘坡坪场嘴渠港口巷桥园";

/// Word lists indexed by their first two (or last two) characters in a hash map: a lookup
/// is two hashes of a number. (Kept sorted by one character and searched, the lists of
/// words starting with a surname were long — 高 alone starts 25 ordinary words — and the
/// lookups took a third of the scan time.)
#[derive(Clone, Debug)]
struct WordIndex {
    /// Key: first (or last) character and, for words of two or more, the next (or
    /// previous) one. Value: the words with that key, longer first, with their weights.
    words: HashMap<u64, Vec<(&'static str, f32)>, BuildHasherDefault<MulHasher>>,
}

/// A multiplicative hash for the index's `u64` keys: SipHash's resistance to chosen keys
/// is not needed for a fixed word list, and its cost showed in profiles.
#[derive(Clone, Debug, Default)]
pub(crate) struct MulHasher(u64);

impl Hasher for MulHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.write_u64(u64::from(b));
        }
    }
    fn write_u64(&mut self, k: u64) {
        self.0 = (self.0.rotate_left(5) ^ k).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
}

fn key(a: char, b: Option<char>) -> u64 {
    (u64::from(u32::from(a)) << 32) | u64::from(b.map_or(0, u32::from))
}

impl WordIndex {
    fn new(list: impl IntoIterator<Item = (&'static str, f32)>, by_last: bool) -> Self {
        let mut words: HashMap<u64, Vec<(&'static str, f32)>, BuildHasherDefault<MulHasher>> =
            HashMap::default();
        for (w, s) in list {
            let k = if by_last {
                let mut cs = w.chars().rev();
                let a = cs.next().expect("cue words are not empty");
                key(a, cs.next())
            } else {
                let mut cs = w.chars();
                let a = cs.next().expect("cue words are not empty");
                key(a, cs.next())
            };
            words.entry(k).or_default().push((w, s));
        }
        for v in words.values_mut() {
            v.sort_by_key(|w| std::cmp::Reverse(w.0.len()));
        }
        WordIndex { words }
    }

    fn with_key(&self, k: u64) -> &[(&'static str, f32)] {
        self.words.get(&k).map_or(&[], Vec::as_slice)
    }

    /// The longest word at the start of `rest` and its weight.
    fn prefix(&self, rest: &str) -> Option<(&'static str, f32)> {
        let mut cs = rest.chars();
        let a = cs.next()?;
        let two = cs.next().and_then(|b| {
            self.with_key(key(a, Some(b)))
                .iter()
                .find(|w| rest.starts_with(w.0))
        });
        two.or_else(|| self.with_key(key(a, None)).first()).copied()
    }

    /// The longest word ending `before` and its weight.
    fn suffix(&self, before: &str) -> Option<(&'static str, f32)> {
        let mut cs = before.chars().rev();
        let a = cs.next()?;
        let two = cs.next().and_then(|b| {
            self.with_key(key(a, Some(b)))
                .iter()
                .find(|w| before.ends_with(w.0))
        });
        two.or_else(|| self.with_key(key(a, None)).first()).copied()
    }
}

/// The most a context word can weigh, by the two characters at its inner edge: for a word
/// after a name its first two, for a word before one its last two (the nearer first), and
/// by one character for one-character words. An open-addressed table of ideograph pairs:
/// one multiplication and a load or two, where [`WordIndex`] hashes, probes and compares
/// strings — it bounds, for [`NameModel::worth_a_look`], what `WordIndex` would find.
#[derive(Clone, Debug)]
struct PairWeights {
    /// `pair_slot_key(a, b)`, 0 for an empty slot.
    keys: Vec<u32>,
    /// Tenths.
    weights: Vec<i32>,
}

/// Key of the pair (a, b) of ideograph indexes (b = `None` for a one-character word).
#[inline]
fn pair_slot_key(a: usize, b: Option<usize>) -> u32 {
    // Indexes are below 20,992 < 2^15: never 0 after the +1.
    ((a as u32 + 1) << 16) | b.map_or(0, |b| b as u32 + 1)
}

impl PairWeights {
    fn new<'a>(words: impl IntoIterator<Item = (&'a str, f32)>, from_end: bool) -> Self {
        let mut max: HashMap<u32, f32> = HashMap::new();
        for (w, weight) in words {
            let cs: Vec<usize> = if from_end {
                w.chars().rev().filter_map(idx).collect()
            } else {
                w.chars().filter_map(idx).collect()
            };
            assert_eq!(
                cs.len(),
                w.chars().count(),
                "context words are ideographs: {w}"
            );
            let k = pair_slot_key(cs[0], cs.get(1).copied());
            let e = max.entry(k).or_insert(f32::MIN);
            *e = e.max(weight);
        }
        let size = (max.len() * 4).next_power_of_two();
        let mut keys = vec![0u32; size];
        let mut weights = vec![0i32; size];
        for (k, w) in max {
            let mut slot = Self::slot(k, size);
            while keys[slot] != 0 {
                slot = (slot + 1) & (size - 1);
            }
            keys[slot] = k;
            weights[slot] = (w * 10.0).round() as i32;
        }
        PairWeights { keys, weights }
    }

    #[inline]
    fn slot(k: u32, size: usize) -> usize {
        (k.wrapping_mul(0x9E37_79B1) >> 8) as usize & (size - 1)
    }

    /// Weight of the key in tenths, or 0 when no word has it.
    #[inline]
    fn get(&self, k: u32) -> i32 {
        let size = self.keys.len();
        let mut slot = Self::slot(k, size);
        loop {
            match self.keys[slot] {
                0 => return 0,
                x if x == k => return self.weights[slot],
                _ => slot = (slot + 1) & (size - 1),
            }
        }
    }

    /// The most a word at this edge weighs: `a` the character next to the name, `b` the one
    /// after it (away from the name), if it is an ideograph.
    #[inline]
    fn at(&self, a: usize, b: Option<usize>) -> i32 {
        let one = self.get(pair_slot_key(a, None));
        match b {
            Some(b) => one.max(self.get(pair_slot_key(a, Some(b)))),
            None => one,
        }
    }
}

/// The name recogniser's tables, built once per scanner.
#[derive(Clone, Debug)]
pub(crate) struct NameModel {
    /// One bit per ideograph: starts a cue word or is a surname (`with_names`) / starts a
    /// cue word (`cues_only`). 2.6 KB each: the scan loop's one lookup per character
    /// stays in the first-level cache; the 42 KB flag table is read only on a hit.
    with_names: Vec<u64>,
    cues_only: Vec<u64>,
    flags: Vec<u16>,
    left: WordIndex,
    right: WordIndex,
    not_names: WordIndex,
    /// Compound surnames (上官, 东方, 公孙 …): their first characters are common words'
    /// too, so they are looked up by both characters at once.
    compounds: WordIndex,
    titles: WordIndex,
    orgs: WordIndex,
    /// The flags the bound reads, one byte per ideograph (`C_*`).
    ctx: Box<[u8; CTX_LEN]>,
    /// Bounds on the left and right context words by their inner two characters.
    left_pairs: PairWeights,
    right_pairs: PairWeights,
    /// The two-character ordinary words of `NOT_NAMES` (a bound rule: see [`Surname`]).
    words2: PairWeights,
    /// Second characters of the compound surnames (a pre-check before `compounds`).
    compound_seconds: CharSet,
}

fn idx(c: char) -> Option<usize> {
    let cp = c as u32;
    (CJK_START..=CJK_END)
        .contains(&cp)
        .then(|| (cp - CJK_START) as usize)
}

/// What was found and why.
pub(crate) struct NameHit {
    /// `PersonName`, or `Address` for a table's address column.
    pub data_type: DataType,
    pub start: usize,
    pub end: usize,
    pub confidence: f32,
    pub reason: String,
}

/// Context strength on one side of a candidate, and what it was.
#[derive(Clone, Copy)]
struct Side {
    weight: f32,
    what: Cue,
    /// Punctuation, a line end or the end of the text (not a word).
    boundary: bool,
}

impl Side {
    fn edge(weight: f32, what: Cue) -> Side {
        Side {
            weight,
            what,
            boundary: true,
        }
    }
    fn word(weight: f32, w: &'static str) -> Side {
        Side {
            weight,
            what: if w.is_empty() {
                Cue::None
            } else {
                Cue::Word(w)
            },
            boundary: false,
        }
    }
}

#[derive(Clone, Copy)]
enum Cue {
    None,
    Start,
    Punct(char),
    Word(&'static str),
}

impl NameModel {
    pub(crate) fn new(cue_firsts: impl IntoIterator<Item = char>) -> Self {
        let mut flags = vec![0u16; (CJK_END - CJK_START + 1) as usize];
        let mut set = |s: &str, f: u16| {
            for c in s.chars() {
                if let Some(k) = idx(c) {
                    flags[k] |= f;
                }
            }
        };
        set(lexicon::SURNAMES, F_SURNAME | F_SINGLE);
        for c in lexicon::COMPOUND_SURNAMES {
            set(&c[..3], F_SURNAME | F_COMPOUND);
        }
        for (w, weight) in LEFT_CUES {
            let hi = if *weight > 2.0 { F_LEFT_HI } else { 0 };
            set(&w[w.len() - 3..], F_LEFT_END | hi);
        }
        set("员人", F_LEFT_END | F_LEFT_HI);
        for (w, weight) in RIGHT_CUES {
            let hi = if *weight > 2.0 { F_RIGHT_HI } else { 0 };
            set(&w[..3], F_RIGHT_START | hi);
        }
        // Counted people (三人) start with a numeral.
        set("一二两三四五六七八九十", F_RIGHT_START | F_RIGHT_HI);
        set(COMMON_SURNAMES, F_COMMON);
        set(lexicon::FUNCTION_WORD_SURNAMES, F_FUNC);
        set(GIVEN_TIER2, F_TIER2);
        set(GIVEN_TIER1, F_TIER1);
        set(BAD_GIVEN, F_BAD);
        for c in cue_firsts {
            if let Some(k) = idx(c) {
                flags[k] |= F_CUE;
            }
        }
        let bitmap = |mask: u16| {
            let mut bits = vec![0u64; flags.len().div_ceil(64)];
            for (k, f) in flags.iter().enumerate() {
                if f & mask != 0 {
                    bits[k / 64] |= 1 << (k % 64);
                }
            }
            bits
        };
        // The bound's flags stand for at most 3.0 on either side (`worth_a_look`).
        assert!(
            LEFT_CUES.iter().chain(RIGHT_CUES).all(|w| w.1 <= 3.0),
            "context weights above 3.0 need the bound in worth_a_look raised"
        );
        let ctx = flags
            .iter()
            .map(|&f| {
                let mut c = 0;
                for (from, to) in [
                    (F_LEFT_END, C_LEFT_END),
                    (F_LEFT_HI, C_LEFT_HI),
                    (F_RIGHT_START, C_RIGHT_START),
                    (F_RIGHT_HI, C_RIGHT_HI),
                    (F_TIER1, C_TIER1),
                    (F_TIER2, C_TIER2),
                    (F_BAD, C_BAD),
                    (F_SURNAME, C_SURNAME),
                ] {
                    if f & from != 0 {
                        c |= to;
                    }
                }
                c
            })
            .collect::<Vec<u8>>();
        let mut ctx_table = Box::new([0u8; CTX_LEN]);
        ctx_table[..ctx.len()].copy_from_slice(&ctx);
        NameModel {
            ctx: ctx_table,
            with_names: bitmap(F_CUE | F_SURNAME),
            cues_only: bitmap(F_CUE),
            flags,
            left: WordIndex::new(LEFT_CUES.iter().copied(), true),
            right: WordIndex::new(RIGHT_CUES.iter().copied(), false),
            not_names: WordIndex::new(NOT_NAMES.iter().map(|w| (*w, 0.0)), false),
            compounds: WordIndex::new(lexicon::COMPOUND_SURNAMES.iter().map(|w| (*w, 0.0)), false),
            titles: WordIndex::new(TITLES.iter().map(|w| (*w, 0.0)), false),
            orgs: WordIndex::new(ORG_SUFFIXES.iter().map(|w| (*w, 0.0)), false),
            words2: PairWeights::new(
                NOT_NAMES
                    .iter()
                    .filter(|w| w.chars().count() == 2)
                    .map(|w| (*w, 1.0)),
                false,
            ),
            left_pairs: PairWeights::new(LEFT_CUES.iter().copied(), true),
            // Counted people (`三人`, `两名`) weigh 2.5 after a name.
            right_pairs: PairWeights::new(
                RIGHT_CUES
                    .iter()
                    .copied()
                    .chain(counted_pairs().iter().map(|(w, s)| (w.as_str(), *s))),
                false,
            ),
            compound_seconds: CharSet::of_chars(
                &lexicon::COMPOUND_SURNAMES
                    .iter()
                    .map(|w| &w[3..])
                    .collect::<String>(),
            ),
        }
    }

    /// Flags of the ideograph `U+4E00 + k`, 0 outside the block.
    #[inline]
    pub(crate) fn flags_at(&self, k: usize) -> u16 {
        self.flags.get(k).copied().unwrap_or(0)
    }

    /// One bit per ideograph `U+4E00 + k` (word `k / 64`, bit `k % 64`): does it start a
    /// cue word (or, with `names`, is it a surname)? The scan loop's one lookup per
    /// character.
    #[inline]
    pub(crate) fn bitmap(&self, names: bool) -> &[u64] {
        if names {
            &self.with_names
        } else {
            &self.cues_only
        }
    }

    fn flags_of(&self, c: char) -> u16 {
        idx(c).map_or(0, |k| self.flags[k])
    }

    /// Given-name evidence of one character, `None` if it (almost) never is one.
    fn given_weight(&self, c: char) -> Option<f32> {
        let f = self.flags_of(c);
        if idx(c).is_none() || f & F_BAD != 0 {
            None
        } else if f & F_TIER1 != 0 {
            Some(1.0)
        } else if f & F_TIER2 != 0 {
            Some(0.6)
        } else {
            Some(0.1)
        }
    }

    /// What stands before `at`.
    fn left_side(&self, text: &str, at: usize) -> Side {
        let before = &text[..at];
        let Some(c) = before.chars().next_back() else {
            return Side::edge(2.0, Cue::Start);
        };
        if c == '：' || c == ':' || c == ' ' || c == '\u{3000}' {
            // `申请人：张三` — a role before the colon makes it stronger.
            let inner = &before[..before.len() - c.len_utf8()];
            if let Some((w, s)) = self.left.suffix(inner).filter(|(_, s)| *s >= 3.0) {
                return Side::word(s, w);
            }
            // A space in Chinese text is as often a wrapping or extraction artefact
            // (`安\n 全可控`) as a separator: weak, like a line start.
            let weight = if c == '：' || c == ':' { 2.0 } else { 1.0 };
            return Side::edge(weight, Cue::Punct(c));
        }
        if c == '\n' || c == '\r' {
            // Text extracted from PDFs wraps lines inside words (`安\n全性能`): a line
            // start is weaker evidence than a sentence start.
            return Side::edge(1.0, Cue::Punct(c));
        }
        if is_boundary(c) {
            return Side::edge(if c == '、' { 2.5 } else { 2.0 }, Cue::Punct(c));
        }
        if let Some((w, s)) = self.left.suffix(before) {
            return Side::word(s, w);
        }
        // 值班员, 调解员, 办事员: a post ending in 员 before a name; 报案人, 求助人: a
        // role ending in 人.
        if c == '员' {
            return Side::word(2.5, "…员");
        }
        if c == '人' {
            return Side::word(2.5, "…人");
        }
        Side::word(0.0, "")
    }

    /// What follows at `at`.
    fn right_side(&self, text: &str, at: usize) -> Side {
        let rest = &text[at..];
        let Some(c) = rest.chars().next() else {
            return Side::edge(2.0, Cue::Start);
        };
        if c.is_ascii_digit() {
            // `张三13800138000` in a form; weaker, as `哈希5a8c…` shows.
            return Side::word(1.0, "(digits)");
        }
        if is_boundary(c) {
            return Side::edge(if c == '、' { 2.5 } else { 2.0 }, Cue::Punct(c));
        }
        match self.right.prefix(rest) {
            Some((w, s)) => Side::word(s, w),
            None if counted_people(rest) => Side::word(2.5, "(number of people)"),
            None => Side::word(0.0, ""),
        }
    }

    /// A name starting at `at` (a surname character), if the evidence is enough.
    #[cfg(test)]
    fn name_at(&self, text: &str, at: usize) -> Option<NameHit> {
        let first = text[at..].chars().next()?;
        if !self.worth_a_look(
            text.as_bytes(),
            at,
            self.flags_of(first),
            idx(first).unwrap_or(usize::MAX),
        ) {
            return None;
        }
        self.evaluate(text, at)
    }

    /// [`name_at`](Self::name_at) without the cheap bound in front (the tests check that
    /// the bound never turns a name away).
    pub(crate) fn evaluate(&self, text: &str, at: usize) -> Option<NameHit> {
        let rest = &text[at..];
        let first = rest.chars().next()?;
        let f0 = self.flags_of(first);
        let compound_at = if f0 & F_COMPOUND != 0 {
            self.compounds.prefix(rest).map(|(w, _)| w)
        } else {
            None
        };
        let (surname_len, compound) = match compound_at {
            // 第五 is a surname of a few thousand people and the start of 第五章/第五条 in
            // every regulation: not looked for in running text.
            Some("第五") => return None,
            // 区长孙志军, 院长孙明: the compound's first character ends a title or role
            // (区长, 院长) and its second is a surname — the title comes first, the name
            // starts at the second character (the next position of the scan).
            Some(c)
                if self
                    .left
                    .suffix(&text[..at + first.len_utf8()])
                    .is_some_and(|(w, weight)| weight >= 2.5 && w.chars().count() >= 2)
                    && self.flags_of(c.chars().nth(1).unwrap_or(' ')) & F_SINGLE != 0 =>
            {
                return None
            }
            Some(c) => (c.len(), true),
            None => {
                if f0 & F_SINGLE == 0 {
                    return None;
                }
                (first.len_utf8(), false)
            }
        };
        let after_surname = &rest[surname_len..];
        let surname_weight = if compound {
            1.0
        } else {
            let f = self.flags_of(first);
            if f & F_FUNC != 0 {
                -2.0
            } else if f & F_COMMON != 0 {
                0.5
            } else {
                0.0
            }
        };
        let mut given = after_surname.chars();
        let g1 = given.next()?;
        // `由吴洋警官`: a function-word surname followed by a surname is the function word
        // before a name.
        if !compound && self.flags_of(first) & F_FUNC != 0 && self.flags_of(g1) & F_SURNAME != 0 {
            return None;
        }
        let left = self.left_side(text, at);
        // A form field (`委托人：殷实`, a role word before a colon) holds a name whatever its
        // characters, as long as the value ends there.
        let field = left.weight >= 3.0 && matches!(left.what, Cue::Word(_));
        let lenient = |w: Option<f32>| if field { w.or(Some(0.1)) } else { w };
        let w1 = lenient(self.given_weight(g1))?;
        let g2 = given.next();
        let w2 = g2.and_then(|c| lenient(self.given_weight(c)));
        // Even the strongest right context (3.0) cannot lift a weak candidate: stop before
        // any word list is searched (most surname characters in prose end here).
        let best_given = (w1 * 2.0).max(w1 + w2.unwrap_or(0.0));
        if left.weight + 3.0 + best_given + surname_weight < THRESHOLD {
            return None;
        }
        let family = match self.titles.prefix(after_surname) {
            Some(("家", _)) => true,
            Some(_) => return None,
            None => false,
        };
        let bad = |c: char| self.given_weight(c).is_none();
        let g2_bad = g2.is_some_and(bad);
        let end1 = at + surname_len + g1.len_utf8();
        let one = self
            .candidate(text, at, end1, w1 * 2.0, left, surname_weight)
            .filter(|_| !family)
            .filter(|c| !bad(g1) || c.2.boundary);
        let two = match (g2, w2) {
            (Some(c2), Some(w2)) => {
                let end2 = end1 + c2.len_utf8();
                // Not when the two-character form is itself a place or organisation
                // (`张家港市`): the org check in `candidate` covers the shorter form too.
                self.candidate(text, at, end2, w1 + w2, left, surname_weight)
                    .filter(|_| !(CUE_CHARS.contains(c2) && one.is_some()))
                    .filter(|c| !(bad(g1) || g2_bad) || c.2.boundary)
                    .filter(|_| !(PLACE_TAILS.contains(c2)))
            }
            _ => None,
        };
        // The span whose end is better marked wins (`周文性别` is 周文 + 性别, `王建国反映`
        // is 王建国 + 反映); on a tie the longer one, three-character names being the most
        // common.
        let (end, score, right) = match (one, two) {
            (Some(o), Some(t))
                if o.2.weight > t.2.weight || (o.2.weight == t.2.weight && o.1 > t.1) =>
            {
                o
            }
            (o, t) => t.or(o)?,
        };
        let confidence = (0.6 + (score - THRESHOLD) * 0.08).clamp(0.55, 0.95);
        let reason = format!(
            "surname {}{}, given name {} ({}); before: {}; after: {}",
            &text[at..at + surname_len],
            if compound { " (compound)" } else { "" },
            &text[at + surname_len..end],
            given_quality(&text[at + surname_len..end], self),
            describe(left.what, true),
            describe(right.what, false),
        );
        Some(NameHit {
            data_type: DataType::PersonName,
            start: at,
            end,
            confidence,
            reason,
        })
    }

    /// The bound in front of [`evaluate`](Self::evaluate), read from the bytes around a
    /// surname character at `at` (`f0` its flags) before any word list is searched: the
    /// most any word ending before the candidate or starting after a one- or two-character
    /// given name could weigh (from the characters' flags: the last character of a left
    /// cue, the first of a right cue, and whether such words reach 2.5), what the given
    /// characters and the surname add, and the rules that rule a candidate out whatever
    /// its context (a character never in a given name outside a form field; a
    /// function-word surname before a surname). False only where `evaluate` certainly finds
    /// nothing; in prose most surname characters end here (the tests check it never turns
    /// a name away, at every position of the labelled sets and of random texts).
    ///
    /// `k0`: the surname character's index from U+4E00.
    #[inline]
    pub(crate) fn worth_a_look(&self, b: &[u8], at: usize, f0: u16, k0: usize) -> bool {
        // Stage 1, from one class per character (an ideograph's `ctx` byte, or what kind of
        // other character it is) and one small table: the character before, the one or
        // two given characters and the character after either, in tenths (integers: no
        // rounding). Most surname characters of prose end here.
        let prev = PACKED[self.class_before(b, at) & CLASS_MASK];
        let (c1, l1, k1) = self.class_k_at(b, at + 3);
        // A first character of a compound surname may also be a surname of its own (申 and
        // 申屠): both readings are bounded.
        (f0 & F_SINGLE != 0 && self.single_reaches(b, at, f0, prev, (c1, l1), (k0, k1)))
            || (f0 & F_COMPOUND != 0
                && c1 < 256
                && self.compound_seconds.starts(&b[at + 3..])
                && self.compound_reaches(b, at, prev))
    }

    /// Stage 1 and 2 for a single surname at `at` (`prev` the packed class before it, `c1`
    /// the class and length of the first given character, `k0`, `k1` the two characters'
    /// indexes). The first given character alone rules most surname characters of prose
    /// out: one that is never in a given name (outside a form field), or a surname after a
    /// function-word surname (`由吴洋警官`: the function word before a name); one that
    /// makes an ordinary word with the surname costs the rest.
    #[inline(always)]
    fn single_reaches(
        &self,
        b: &[u8],
        at: usize,
        f0: u16,
        prev: u32,
        (c1, l1): (usize, usize),
        (k0, k1): (usize, usize),
    ) -> bool {
        let field = prev >> 24 != 0;
        if (PACKED[c1 & CLASS_MASK] >> 16) as u8 as i8 == G_WEAK as i8 && !field {
            return false;
        }
        if (f0 & F_FUNC != 0) & (c1 < 256) & (c1 as u8 & C_SURNAME != 0) {
            return false;
        }
        // The best any right side (3.0) and second character (1.0) could add: a function
        // word as surname (-2.0) after a plain character needs more than there is.
        let w1 = match i32::from((PACKED[c1 & CLASS_MASK] >> 16) as u8 as i8) {
            G_WEAK => 1,
            g => g,
        };
        let left = (prev & 0xFF) as i32;
        if left + 30 + (2 * w1).max(w1 + 10) + surname_tenths(f0) < 45 {
            return false;
        }
        let (c2, l2) = self.class_at(b, at + 3 + l1);
        let (c3, _) = self.class_at(b, at + 3 + l1 + l2);
        let mut surname = Surname {
            weight: surname_tenths(f0),
            word2: false,
        };
        if !reaches_packed(prev, c1, c2, c3, surname) {
            return false;
        }
        surname.word2 = k1 < IDEOGRAPHS && self.words2.get(pair_slot_key(k0, Some(k1))) != 0;
        reaches_packed(prev, c1, c2, c3, surname) && self.refined(b, at, at + 3, surname)
    }

    /// Stage 1 for a given name starting at `g1`.
    #[inline]
    fn stage1(&self, b: &[u8], g1: usize, prev: u32, s: Surname) -> bool {
        let (c1, l1) = self.class_at(b, g1);
        let (c2, l2) = self.class_at(b, g1 + l1);
        let (c3, _) = self.class_at(b, g1 + l1 + l2);
        reaches_packed(prev, c1, c2, c3, s)
    }

    /// A compound surname at `at` (its second character one that ends a compound): can
    /// its name reach the threshold?
    #[cold]
    #[inline(never)]
    fn compound_reaches(&self, b: &[u8], at: usize, prev: u32) -> bool {
        std::str::from_utf8(&b[at..at + 6])
            .ok()
            .and_then(|pair| self.compounds.prefix(pair))
            .is_some_and(|(c, _)| c.len() == 6)
            && self.stage1(b, at + 6, prev, COMPOUND)
            && self.refined(b, at, at + 6, COMPOUND)
    }

    /// Stage 2 of [`worth_a_look`](Self::worth_a_look): the same bound with the context
    /// words' weights read by their two inner characters (`left_pairs`, `right_pairs`)
    /// instead of the flags of one.
    #[inline(never)]
    fn refined(&self, b: &[u8], at: usize, g1: usize, surname: Surname) -> bool {
        let pair_before = |p: usize| match Near::before(b, p) {
            Near::Cjk(k) => {
                let k2 = match Near::before(b, p - 3) {
                    Near::Cjk(k2) => Some(k2),
                    _ => None,
                };
                Some((k, self.left_pairs.at(k, k2)))
            }
            _ => None,
        };
        let (left, field) = match Near::before(b, at) {
            Near::End => (20, false),
            Near::Cjk(_) => {
                let (k, mut w) = pair_before(at).unwrap_or((0, 0));
                // 值班员, 报案人: a post ending in 员 or a role ending in 人 (2.5).
                if k == IDX_YUAN || k == IDX_REN {
                    w = w.max(25);
                }
                (w, w >= 30)
            }
            // `申请人：` — a role before a colon (or a space) is a form field.
            Near::Other(cp) if matches!(cp, 0xFF1A | 0x3A | 0x20 | 0x3000) => {
                let colon = at - char::from_u32(cp).map_or(1, char::len_utf8);
                match pair_before(colon) {
                    Some((_, role)) if role >= 30 => (role, true),
                    _ => (20, false),
                }
            }
            Near::Other(_) => {
                let c = self.class_before(b, at);
                (i32::from(LEFT_T[c]), FIELD_T[c])
            }
        };
        let (c1, l1) = self.class_at(b, g1);
        let a1 = g1 + l1;
        let (c2, l2) = self.class_at(b, a1);
        let a2 = a1 + l2;
        let (c3, _) = self.class_at(b, a2);
        let (r1, r2) = (i32::from(RIGHT_T[c2]), i32::from(RIGHT_T[c3]));
        // The left pair alone, then each right pair as it is needed.
        if !reaches(c1, c2, r1, r2, left, field, surname) {
            return false;
        }
        const NEVER: i32 = -100;
        let r1 = self.right_pair(b, a1, r1);
        if reaches(c1, c2, r1, NEVER, left, field, surname) {
            return true;
        }
        let r2 = self.right_pair(b, a2, r2);
        reaches(c1, c2, NEVER, r2, left, field, surname)
    }

    /// The right side's bound at `p` by its first two characters, when it starts with an
    /// ideograph (`flag_bound`: the bound from its first character's class otherwise).
    #[inline]
    fn right_pair(&self, b: &[u8], p: usize, flag_bound: i32) -> i32 {
        match Near::at(b, p) {
            Near::Cjk(k) => {
                let k2 = match Near::at(b, p + 3) {
                    Near::Cjk(k2) => Some(k2),
                    _ => None,
                };
                self.right_pairs.at(k, k2)
            }
            _ => flag_bound,
        }
    }

    /// The class of the character starting at `p` and its length in bytes (classes
    /// 0..=255: an ideograph's `ctx` byte; `K_*`: other characters).
    #[inline(always)]
    pub(crate) fn class_at(&self, b: &[u8], p: usize) -> (usize, usize) {
        let (c, len, _) = self.class_k_at(b, p);
        (c, len)
    }

    /// [`class_at`](Self::class_at), and the ideograph's index from U+4E00 (`usize::MAX`
    /// for other characters).
    #[inline(always)]
    fn class_k_at(&self, b: &[u8], p: usize) -> (usize, usize, usize) {
        if let Some(&[c, c1, c2]) = b.get(p..p + 3) {
            if (0xE3..=0xEF).contains(&c) {
                let cp = (u32::from(c & 0x0F) << 12)
                    | (u32::from(c1 & 0x3F) << 6)
                    | u32::from(c2 & 0x3F);
                if let Some(k) = cp
                    .checked_sub(CJK_START)
                    .filter(|&k| k <= CJK_END - CJK_START)
                {
                    let k = k as usize;
                    return (usize::from(self.ctx[k & (CTX_LEN - 1)]), 3, k);
                }
                // Chinese punctuation (，。、：…) and the other three-byte characters.
                return (other_class_of(cp), 3, usize::MAX);
            }
        }
        match b.get(p) {
            None => (K_END, 0, usize::MAX),
            Some(&c) if c < 0x80 => (
                usize::from(ASCII_CLASS[usize::from(c)]) + 256,
                1,
                usize::MAX,
            ),
            Some(_) => {
                let (c, len) = other_class(b, p);
                (c, len, usize::MAX)
            }
        }
    }

    /// The class of the character ending at `p`.
    #[inline(always)]
    pub(crate) fn class_before(&self, b: &[u8], p: usize) -> usize {
        if p >= 3 && (0xE4..=0xE9).contains(&b[p - 3]) {
            return self.class_at(b, p - 3).0;
        }
        match p.checked_sub(1) {
            None => K_END,
            Some(q) if b[q] < 0x80 => usize::from(ASCII_CLASS[usize::from(b[q])]) + 256,
            Some(_) => match Near::before(b, p) {
                Near::Cjk(k) => usize::from(self.ctx[k]),
                Near::Other(cp) => other_class_of(cp),
                Near::End => K_END,
            },
        }
    }

    /// Scores the candidate `text[at..end]`; returns (end, score, right side) if it passes.
    fn candidate(
        &self,
        text: &str,
        at: usize,
        end: usize,
        given: f32,
        left: Side,
        surname: f32,
    ) -> Option<(usize, f32, Side)> {
        let rest = &text[end..];
        // `国发〔2016〕51号`: the issuer's abbreviation of a document number (文号), not a
        // name.
        if rest.starts_with('〔') || rest.starts_with('［') {
            return None;
        }
        let right = self.right_side(text, end);
        // Both sides must say something: a name never comes out of given-name statistics
        // alone.
        if left.weight + right.weight < 2.5
            || left.weight + right.weight + given + surname < THRESHOLD
        {
            return None;
        }
        // Followed by an organisation or place word: 张家港市, 万达广场. A right cue that
        // starts the same way (局长 after a name) is a title, not an organisation.
        let right_len = match right.what {
            Cue::Word(w) => w.len(),
            _ => 0,
        };
        if self
            .orgs
            .prefix(rest)
            .is_some_and(|(o, _)| o.len() > right_len)
        {
            return None;
        }
        // An ordinary word (高度, 夏天) as long as the candidate or longer rules it out; a
        // shorter one at its start (夏天明) only costs evidence.
        let mut penalty = 0.0;
        if let Some((w, _)) = self.not_names.prefix(&text[at..]) {
            if w.len() >= end - at {
                return None;
            }
            penalty = 1.0;
        }
        // Between two punctuation marks (`、干扰、`, `、符号、`) any short word stands; the
        // characters themselves must then look like a name.
        if left.boundary && right.boundary && given + surname < 0.7 {
            return None;
        }
        let score = left.weight + right.weight + given + surname - penalty;
        (score >= THRESHOLD).then_some((end, score, right))
    }

    /// Is `cell` (a whole table cell) a name? Lenient: the header already said it is one.
    pub(crate) fn is_name_cell(&self, cell: &str) -> bool {
        let n = cell.chars().count();
        if !(2..=4).contains(&n) || self.not_names.prefix(cell).is_some() {
            return false;
        }
        let (surname_len, max_len) = match lexicon::COMPOUND_SURNAMES
            .iter()
            .find(|c| cell.starts_with(**c))
        {
            Some(c) => (c.len(), 4),
            None => match cell.chars().next() {
                Some(c) if lexicon::SURNAMES.contains(c) => (c.len_utf8(), 3),
                _ => return false,
            },
        };
        n <= max_len
            && self.titles.prefix(&cell[surname_len..]).is_none()
            && cell[surname_len..]
                .chars()
                .all(|c| self.given_weight(c).is_some())
    }
}

const K_END: usize = 256; // the start or the end of the text
const K_DIGIT: usize = 257; // ASCII digit
const K_ALPHA: usize = 258; // ASCII letter
const K_COLON: usize = 259; // ：, :, a space, U+3000 (a form field's colon)
const K_DUN: usize = 260; // 、
const K_BREAK: usize = 261; // a line break
const K_OTHER: usize = 262; // any other character: punctuation, symbols, other scripts
const N_CLASSES: usize = 263;

/// ASCII bytes by class, minus 256.
static ASCII_CLASS: [u8; 128] = {
    let mut t = [(K_OTHER - 256) as u8; 128];
    let mut c = 0;
    while c < 128 {
        let b = c as u8;
        if b.is_ascii_digit() {
            t[c] = (K_DIGIT - 256) as u8;
        } else if b.is_ascii_alphabetic() {
            t[c] = (K_ALPHA - 256) as u8;
        } else if b == b':' || b == b' ' {
            t[c] = (K_COLON - 256) as u8;
        } else if b == b'\n' || b == b'\r' {
            t[c] = (K_BREAK - 256) as u8;
        }
        c += 1;
    }
    t
};

/// The class of a character that is neither ASCII nor a three-byte ideograph at `p`.
#[cold]
fn other_class(b: &[u8], p: usize) -> (usize, usize) {
    let cp = decode(b, p);
    (
        other_class_of(cp),
        char::from_u32(cp).map_or(1, char::len_utf8),
    )
}

/// The class of a character that is not an ideograph U+4E00..=U+9FFF.
fn other_class_of(cp: u32) -> usize {
    match cp {
        0x30..=0x39 => K_DIGIT,
        0x41..=0x5A | 0x61..=0x7A => K_ALPHA,
        0xFF1A | 0x3A | 0x20 | 0x3000 => K_COLON,
        0x3001 => K_DUN,
        0x0A | 0x0D => K_BREAK,
        _ => K_OTHER,
    }
}

/// Most evidence (tenths) a character of each class gives before a name (`left_side`; for
/// an ideograph, from the flags of the last characters of the left cues).
static LEFT_T: [u8; N_CLASSES] = {
    let mut t = [0u8; N_CLASSES];
    let mut c = 0;
    while c < 256 {
        let f = c as u8;
        t[c] = if f & C_LEFT_HI != 0 {
            30
        } else if f & C_LEFT_END != 0 {
            20
        } else {
            0
        };
        c += 1;
    }
    t[K_END] = 20;
    t[K_DIGIT] = 0;
    t[K_ALPHA] = 0;
    // A role before a colon or a space: refined in stage 2.
    t[K_COLON] = 30;
    t[K_DUN] = 25;
    t[K_BREAK] = 10;
    t[K_OTHER] = 20;
    t
};

/// Whether a form field (a role word, possibly before a colon) may stand before a name
/// after a character of each class.
static FIELD_T: [bool; N_CLASSES] = {
    let mut t = [false; N_CLASSES];
    let mut c = 0;
    while c < 256 {
        t[c] = c as u8 & C_LEFT_HI != 0;
        c += 1;
    }
    t[K_COLON] = true;
    t
};

/// Given-name weight (tenths) of a character of each class: `G_WEAK` never in a given
/// name (weak in a form field), `G_NONE` no character at all.
static GIVEN_T: [i8; N_CLASSES] = {
    let mut t = [G_WEAK as i8; N_CLASSES];
    let mut c = 0;
    while c < 256 {
        let f = c as u8;
        t[c] = if f & C_BAD != 0 {
            G_WEAK as i8
        } else if f & C_TIER1 != 0 {
            10
        } else if f & C_TIER2 != 0 {
            6
        } else {
            1
        };
        c += 1;
    }
    t[K_END] = G_NONE as i8;
    t
};

/// Most evidence (tenths) a right context starting with a character of each class gives
/// (`right_side`).
static RIGHT_T: [u8; N_CLASSES] = {
    let mut t = [0u8; N_CLASSES];
    let mut c = 0;
    while c < 256 {
        let f = c as u8;
        t[c] = if f & C_RIGHT_HI != 0 {
            30
        } else if f & C_RIGHT_START != 0 {
            20
        } else {
            0
        };
        c += 1;
    }
    t[K_END] = 20;
    t[K_DIGIT] = 10;
    t[K_ALPHA] = 0;
    t[K_COLON] = 20;
    t[K_DUN] = 25;
    t[K_BREAK] = 20;
    t[K_OTHER] = 20;
    t
};

/// The bound's arithmetic in tenths: given characters of classes `c1` and `c2`, the right
/// side after the first at most `r1`, after both at most `r2`; `s` the surname's evidence.
#[inline(always)]
fn reaches(c1: usize, c2: usize, r1: i32, r2: i32, left: i32, field: bool, s: Surname) -> bool {
    let given = |c: usize| match i32::from(GIVEN_T[c]) {
        G_WEAK if field => 1,
        G_WEAK => G_NONE,
        g => g,
    };
    let (w1, w2) = (given(c1), given(c2));
    let ok = |r: i32, g: i32, s: i32| (left + r >= 25) & (left + r + g + s >= 45);
    (w1 != G_NONE)
        & ((ok(r1, 2 * w1, s.weight) & !s.word2)
            | ((w2 != G_NONE) & ok(r2, w1 + w2, s.weight - 10 * i32::from(s.word2))))
}

/// The surname's side of the bound: its evidence in tenths, and whether it and the first
/// given character make an ordinary two-character word (`NOT_NAMES`: 全部, 安全, 关于 …).
/// Then the one-character given name is that word and never a name, and the two-character
/// one starts with it and costs 1.0 (`candidate`'s rule).
#[derive(Clone, Copy)]
struct Surname {
    weight: i32,
    word2: bool,
}

/// A compound surname's side (1.0).
const COMPOUND: Surname = Surname {
    weight: 10,
    word2: false,
};

/// Classes index tables of this size (a power of two: a masked index needs no bounds
/// check).
const CLASS_MASK: usize = 511;

/// The four stage-1 tables in one word per class, for one load per character: bits 0..8
/// the left evidence, 8..16 the right evidence, 16..24 the given-name weight (as `i8`),
/// bit 24 whether a form field may follow.
static PACKED: [u32; CLASS_MASK + 1] = {
    let mut t = [0u32; CLASS_MASK + 1];
    let mut c = 0;
    while c < N_CLASSES {
        t[c] = LEFT_T[c] as u32
            | (RIGHT_T[c] as u32) << 8
            | (GIVEN_T[c] as u8 as u32) << 16
            | (FIELD_T[c] as u32) << 24;
        c += 1;
    }
    t
};

/// Stage 1's arithmetic from packed classes: `prev` the packed word of the character
/// before the candidate, `c1`, `c2` the classes of the one or two given characters, `c3`
/// the class of the character after two.
#[inline(always)]
fn reaches_packed(prev: u32, c1: usize, c2: usize, c3: usize, s: Surname) -> bool {
    let (p1, p2, p3) = (
        PACKED[c1 & CLASS_MASK],
        PACKED[c2 & CLASS_MASK],
        PACKED[c3 & CLASS_MASK],
    );
    let left = (prev & 0xFF) as i32;
    let field = prev >> 24 != 0;
    let given = |p: u32| match i32::from((p >> 16) as u8 as i8) {
        G_WEAK if field => 1,
        G_WEAK => G_NONE,
        g => g,
    };
    let right = |p: u32| ((p >> 8) & 0xFF) as i32;
    let (w1, w2) = (given(p1), given(p2));
    let ok = |r: i32, g: i32, s: i32| (left + r >= 25) & (left + r + g + s >= 45);
    (w1 != G_NONE)
        & ((ok(right(p2), 2 * w1, s.weight) & !s.word2)
            | ((w2 != G_NONE) & ok(right(p3), w1 + w2, s.weight - 10 * i32::from(s.word2))))
}

/// Given-name weight (tenths) of a character never in a given name: weak (1) in a form
/// field, nothing elsewhere.
const G_WEAK: i32 = -1;
/// No given-name character at all (past the end of the text).
const G_NONE: i32 = -100;

/// A character next to a candidate, as the bound reads it.
#[derive(Clone, Copy)]
enum Near {
    /// The start or the end of the text.
    End,
    /// An ideograph U+4E00..=U+9FFF, by its index from U+4E00.
    Cjk(usize),
    /// Any other character (its code point).
    Other(u32),
}

impl Near {
    /// The character starting at byte `p` (a char boundary) of valid UTF-8.
    #[inline(always)]
    fn at(b: &[u8], p: usize) -> Near {
        let Some(&lead) = b.get(p) else {
            return Near::End;
        };
        if (0xE4..=0xE9).contains(&lead) && p + 2 < b.len() {
            let cp = (u32::from(lead & 0x0F) << 12)
                | (u32::from(b[p + 1] & 0x3F) << 6)
                | u32::from(b[p + 2] & 0x3F);
            if cp >= CJK_START {
                return Near::Cjk((cp - CJK_START) as usize);
            }
            return Near::Other(cp);
        }
        Near::Other(decode(b, p))
    }

    /// The character ending at byte `p` (a char boundary) of valid UTF-8.
    #[inline(always)]
    fn before(b: &[u8], p: usize) -> Near {
        if p >= 3 && (0xE4..=0xE9).contains(&b[p - 3]) {
            return Near::at(b, p - 3);
        }
        let Some(mut s) = p.checked_sub(1) else {
            return Near::End;
        };
        while s > 0 && b[s] & 0xC0 == 0x80 && p - s < 4 {
            s -= 1;
        }
        Near::at(b, s)
    }
}

/// The code point starting at byte `p` of valid UTF-8 (`p` in bounds).
fn decode(b: &[u8], p: usize) -> u32 {
    let lead = b[p];
    let cont = |k: usize| u32::from(b.get(p + k).copied().unwrap_or(0) & 0x3F);
    match lead {
        0..=0x7F => u32::from(lead),
        0xC0..=0xDF => (u32::from(lead & 0x1F) << 6) | cont(1),
        0xE0..=0xEF => (u32::from(lead & 0x0F) << 12) | (cont(1) << 6) | cont(2),
        _ => (u32::from(lead & 0x07) << 18) | (cont(1) << 12) | (cont(2) << 6) | cont(3),
    }
}

/// Surname evidence in tenths (`evaluate`'s `surname_weight` for a single surname).
fn surname_tenths(f0: u16) -> i32 {
    if f0 & F_FUNC != 0 {
        -20
    } else if f0 & F_COMMON != 0 {
        5
    } else {
        0
    }
}

/// Every pair [`counted_people`] accepts, with its weight.
fn counted_pairs() -> Vec<(String, f32)> {
    let mut v = Vec::new();
    for n in COUNT_NUMERALS.chars() {
        for k in COUNT_UNITS.chars() {
            v.push((format!("{n}{k}"), 2.5));
        }
    }
    v
}

const COUNT_NUMERALS: &str = "一二两三四五六七八九十";
const COUNT_UNITS: &str = "人名位户";

/// `三人`, `两名`, `四位`: a count of people closing a list of names.
fn counted_people(rest: &str) -> bool {
    let mut cs = rest.chars();
    matches!(
        (cs.next(), cs.next()),
        (Some(n), Some(k)) if COUNT_NUMERALS.contains(n) && COUNT_UNITS.contains(k)
    )
}

fn given_quality(given: &str, m: &NameModel) -> &'static str {
    let all_common = given
        .chars()
        .all(|c| m.flags_of(c) & (F_TIER1 | F_TIER2) != 0);
    if all_common {
        "common given-name characters"
    } else {
        "rare given-name characters"
    }
}

fn describe(c: Cue, left: bool) -> String {
    match c {
        Cue::None => "nothing".into(),
        Cue::Start if left => "start of text".into(),
        Cue::Start => "end of text".into(),
        Cue::Punct('\n') => "line break".into(),
        Cue::Punct('\t') => "tab".into(),
        Cue::Punct(p) => format!("'{p}'"),
        Cue::Word(w) => format!("'{w}'"),
    }
}

/// Punctuation, whitespace and other non-ideographs that separate words.
pub(crate) fn is_boundary(c: char) -> bool {
    !(('\u{4E00}'..='\u{9FFF}').contains(&c) || c.is_ascii_alphanumeric())
}

/// Names and addresses in the name and address columns of pasted tables: tab-separated lines or markdown rows
/// (`| 姓名 | 电话 |`), the column chosen by its header. Called on whole texts; cheap when
/// a text has no tab or `|`.
pub(crate) fn table_names(text: &str, model: &NameModel, out: &mut Vec<NameHit>) {
    let b = text.as_bytes();
    if memchr::memchr2(b'\t', b'|', b).is_none() {
        return;
    }
    // (separator, name column, address column, their header words) of the table being read.
    let mut table: Option<Table> = None;
    // Only lines with a tab or a pipe can be table rows: jump from one to the next, and
    // end the table when lines without either came between.
    let mut line_start = 0;
    let mut prev_end = 0;
    while let Some(p) = memchr::memchr2(b'\t', b'|', &b[line_start..]) {
        let hit = line_start + p;
        let this_start = memchr::memrchr(b'\n', &b[..hit]).map_or(0, |q| q + 1);
        if this_start != prev_end + 1 {
            table = None;
        }
        line_start = this_start;
        let line_end = memchr::memchr(b'\n', &b[hit..]).map_or(b.len(), |q| hit + q);
        prev_end = line_end;
        let line = &text[line_start..line_end];
        let line = line.strip_suffix('\r').unwrap_or(line);
        let sep = if line.contains('\t') {
            Some(b'\t')
        } else if line.trim_start().starts_with('|') {
            Some(b'|')
        } else {
            None
        };
        match sep {
            None => table = None,
            Some(sep) => {
                let cells = split_cells(line, sep);
                let header = |list: &[&str]| {
                    cells.iter().enumerate().find_map(|(k, (s, e))| {
                        let cell = line[*s..*e].trim();
                        list.contains(&cell).then(|| (k, cell.to_string()))
                    })
                };
                let (name_col, addr_col) = (header(NAME_HEADERS), header(ADDRESS_HEADERS));
                if name_col.is_some() || addr_col.is_some() {
                    table = Some(Table {
                        sep,
                        name_col,
                        addr_col,
                    });
                } else if let Some(t) = table.as_ref().filter(|t| t.sep == sep) {
                    let cell_at = |k: usize| {
                        cells.get(k).map(|&(s, e)| {
                            let raw = &line[s..e];
                            let lead = raw.len() - raw.trim_start().len();
                            (line_start + s + lead, raw.trim())
                        })
                    };
                    if let Some((k, word)) = &t.name_col {
                        if let Some((start, cell)) = cell_at(*k) {
                            if model.is_name_cell(cell) {
                                out.push(NameHit {
                                    data_type: DataType::PersonName,
                                    start,
                                    end: start + cell.len(),
                                    confidence: 0.9,
                                    reason: format!(
                                        "surname and given name in the '{word}' column of a table"
                                    ),
                                });
                            }
                        }
                    }
                    if let Some((k, word)) = &t.addr_col {
                        if let Some((start, cell)) = cell_at(*k) {
                            let end = crate::address::address_end(text, start)
                                .filter(|&e| e <= start + cell.len());
                            if let Some(end) = end {
                                let (level, detail) = crate::address::markers(&text[start..end]);
                                if level || detail {
                                    out.push(NameHit {
                                        data_type: DataType::Address,
                                        start,
                                        end,
                                        confidence: 0.85,
                                        reason: format!(
                                            "address markers in the '{word}' column of a table"
                                        ),
                                    });
                                }
                            }
                        }
                    }
                } else {
                    table = None;
                }
            }
        }
        line_start = line_end + 1;
        if line_start >= b.len() {
            break;
        }
    }
}

struct Table {
    sep: u8,
    name_col: Option<(usize, String)>,
    addr_col: Option<(usize, String)>,
}

/// Header cells that name a column of addresses.
const ADDRESS_HEADERS: &[&str] = &[
    "住址",
    "地址",
    "家庭住址",
    "户籍地址",
    "现住址",
    "联系地址",
    "通讯地址",
    "详细地址",
    "居住地址",
    "经营地址",
    "注册地址",
    "户籍地",
    "居住地",
    "住所",
    "送达地址",
    "收货地址",
];

/// Header cells that name a column of person names.
const NAME_HEADERS: &[&str] = &[
    "姓名",
    "名字",
    "申请人",
    "联系人",
    "信访人",
    "投诉人",
    "被投诉人",
    "举报人",
    "承办人",
    "经办人",
    "户主",
    "户主姓名",
    "负责人",
    "法定代表人",
    "当事人",
    "收件人",
    "患者",
    "患者姓名",
    "学生姓名",
    "联系人姓名",
    "申请人姓名",
    "来访人",
    "驾驶人",
    "车主",
    "监护人",
    "填表人",
    "审核人",
    "姓 名",
];

/// Byte spans of the cells of a table line (markdown: between the pipes).
fn split_cells(line: &str, sep: u8) -> Vec<(usize, usize)> {
    let b = line.as_bytes();
    let mut cells = Vec::new();
    let mut s = 0;
    for (p, &c) in b.iter().enumerate() {
        if c == sep {
            cells.push((s, p));
            s = p + 1;
        }
    }
    cells.push((s, b.len()));
    if sep == b'|' {
        // `| a | b |`: drop the empty pieces before the first and after the last pipe.
        if cells
            .first()
            .is_some_and(|&(s, e)| line[s..e].trim().is_empty())
        {
            cells.remove(0);
        }
        if cells
            .last()
            .is_some_and(|&(s, e)| line[s..e].trim().is_empty())
        {
            cells.pop();
        }
    }
    cells
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The bound in `worth_a_look` is only a shortcut: at every surname character of the
    /// labelled sets, the generated sentences and the regulations, `name_at` gives what the
    /// full evaluation gives (it once turned away 申雪, reading 申 as the start of 申屠).
    #[test]
    fn the_bound_never_turns_a_name_away() {
        let m = NameModel::new(std::iter::empty());
        let mut texts: Vec<String> = Vec::new();
        for data in [
            include_str!("../tests/data/names_addresses.tsv"),
            include_str!("../tests/data/names_addresses_holdout.tsv"),
            include_str!("../tests/data/names_addresses_blind.tsv"),
            include_str!("../tests/data/names_addresses_blind2.tsv"),
            include_str!("../tests/data/names_addresses_blind3.tsv"),
        ] {
            for line in data.lines().filter(|l| !l.starts_with('#')) {
                let plain: String = line
                    .replace("[[", "")
                    .replace("]]", "")
                    .replace("{{", "")
                    .replace("}}", "")
                    .replace("\\n", "\n")
                    .replace("\\t", "\t");
                texts.push(plain);
            }
        }
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/regulations");
        if let Ok(entries) = std::fs::read_dir(dir) {
            for e in entries.flatten() {
                if let Ok(t) = std::fs::read_to_string(e.path()) {
                    texts.push(t);
                }
            }
        }
        let mut checked = 0;
        for text in &texts {
            for (at, c) in text.char_indices() {
                if m.flags_of(c) & F_SURNAME == 0 {
                    continue;
                }
                checked += 1;
                let fast = m.name_at(text, at).map(|h| (h.start, h.end));
                let full = m.evaluate(text, at).map(|h| (h.start, h.end));
                assert_eq!(fast, full, "at {at} in {text:?}");
            }
        }
        assert!(checked > 1000, "{checked} surname positions");
    }

    /// Pieces of text where the bound's shortcuts live: context words on both sides,
    /// titles, ordinary words that start with a surname, place and organisation words,
    /// surnames (single, compound, function words), given-name characters of each tier and
    /// characters never in a given name, and the other characters the bound classes
    /// (punctuation, a colon, spaces, line breaks, digits, letters, U+4000..U+4DFF, 〔).
    fn pieces() -> Vec<String> {
        let mut v: Vec<String> = Vec::new();
        v.extend(LEFT_CUES.iter().map(|w| w.0.to_string()));
        v.extend(RIGHT_CUES.iter().map(|w| w.0.to_string()));
        v.extend(TITLES.iter().map(|w| w.to_string()));
        v.extend(NOT_NAMES.iter().step_by(3).map(|w| w.to_string()));
        v.extend(ORG_SUFFIXES.iter().map(|w| w.to_string()));
        v.extend(lexicon::COMPOUND_SURNAMES.iter().map(|w| w.to_string()));
        for list in [
            lexicon::SURNAMES,
            lexicon::FUNCTION_WORD_SURNAMES,
            GIVEN_TIER1,
            GIVEN_TIER2,
            BAD_GIVEN,
            CUE_CHARS,
            PLACE_TAILS,
            COUNT_NUMERALS,
            COUNT_UNITS,
        ] {
            v.extend(list.chars().step_by(2).map(String::from));
        }
        for p in [
            "，", "。", "、", "：", ":", " ", "\u{3000}", "\n", "\r\n", "\t", "1", "38", "a", "Z",
            "〔", "（", "）", "“", "\u{4DB5}", "\u{4E00}", "😀", "é", "员", "人", "第五",
        ] {
            v.push(p.to_string());
        }
        v
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(3000))]
        /// At every surname character of random texts made of those pieces, the bound in
        /// front of the scorer lets through every name the full scorer finds.
        #[test]
        fn the_bound_never_turns_a_name_away_in_random_text(
            picks in proptest::collection::vec(0usize..10_000, 1..24)
        ) {
            thread_local! {
                static MODEL: (NameModel, Vec<String>) =
                    (NameModel::new(std::iter::empty()), pieces());
            }
            MODEL.with(|(m, pieces)| {
                let text: String = picks.iter().map(|&k| pieces[k % pieces.len()].as_str()).collect();
                for (at, c) in text.char_indices() {
                    if m.flags_of(c) & F_SURNAME == 0 {
                        continue;
                    }
                    let fast = m.name_at(&text, at).map(|h| (h.start, h.end));
                    let full = m.evaluate(&text, at).map(|h| (h.start, h.end));
                    assert_eq!(fast, full, "at {at} in {text:?}");
                }
            });
        }
    }
}
