//! Word lists: Chinese surnames, cue words that introduce addresses and birth dates, and
//! the markers that make a span look like an address (the name recogniser's own tables
//! are in `names.rs`).

/// Two-character (compound) surnames.
pub(crate) const COMPOUND_SURNAMES: &[&str] = &[
    "欧阳", "司马", "诸葛", "上官", "东方", "皇甫", "尉迟", "公孙", "慕容", "长孙", "宇文", "司徒",
    "夏侯", "令狐", "端木", "南宫", "西门", "独孤", "轩辕", "呼延", "澹台", "公冶", "申屠", "太史",
    "钟离", "闻人", "赫连", "万俟", "拓跋", "百里", "东郭", "第五",
];

/// Common single-character surnames (the most frequent ~300 of the 2020 census and the
/// 百家姓), enough to cover the vast majority of the population.
pub(crate) const SURNAMES: &str = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤常温康施文牛樊葛邢安齐易乔伍庞颜倪庄聂章鲁岳翟殷詹申欧耿关兰焦俞左柳甘祝包宁尚符舒阮柯纪梅童凌毕单季裴霍涂成苗谷盛曲翁冉骆蓝路游辛靳管柴蒙鲍华喻祁蒲房滕屈饶解牟艾尤阳时穆农司卓古吉缪简车项连芦麦褚娄窦戚岑景党宫费卜冷晏席卫米柏宗瞿桂全佟应臧闵苟邬边卞姬师和仇栾隋商刁沙荣巫寇桑郎甄丛仲虞敖巩明佘池查麻苑迟邝官封谈匡鞠惠荆乐冀郁胥南班储原栗燕楚鄢劳谌奚皮粟冼蔺楼盘满闻位厉伊仝区郜海阚花权强帅屠豆朴盖练廉禹井祖漆巴丰支卿国狄平计索宣晋相初门云容敬来扈晁芮都普阙浦戈伏鹿薄邸雍辜羊阿乌母裘亓修邰赫杭况那宿鲜印逯隆茹诸战慕危玉银亢嵇公哈湛宾戎勾茅利於呼居揭干但尉冶斯元束檀衣信展阴昝智幸奉植衡富尧闭由";

/// Surnames that are also everyday function words or verbs; after a cue word they start a
/// name only if the name ends cleanly (`联系人于伟，` yes, `申请人应当如实填写` no).
pub(crate) const FUNCTION_WORD_SURNAMES: &str =
    "和应于於由向从对是为将可在把被请已也都要能会及与并等同如所其此该本各每原须经因时成那但利";

/// Words that introduce an address (`家庭住址：…`).
pub(crate) const ADDRESS_CUES: &[&str] = &[
    "住址",
    "地址",
    "住所",
    "住所地",
    "户籍所在地",
    "户籍地",
    "居住地",
    "现住址",
    "家庭住址",
    "户籍地址",
    "通讯地址",
    "收货地址",
    "联系地址",
    "注册地址",
    "经营地址",
    "详细地址",
    "现居住地",
    "居住地址",
    "家住",
    "住在",
    "送达地址",
];

/// Words that often, not always, stand before an address (`位于…`, `寄至…`).
pub(crate) const ADDRESS_WEAK_CUES: &[&str] = &[
    "位于",
    "坐落于",
    "地处",
    "寄至",
    "寄往",
    "迁至",
    "迁往",
    "搬至",
    "发往",
    "送至",
];

/// Province-level names that start an address written without a cue word.
pub(crate) const PROVINCE_NAMES: &[&str] = &[
    "北京市",
    "天津市",
    "上海市",
    "重庆市",
    "河北省",
    "山西省",
    "辽宁省",
    "吉林省",
    "黑龙江省",
    "江苏省",
    "浙江省",
    "安徽省",
    "福建省",
    "江西省",
    "山东省",
    "河南省",
    "湖北省",
    "湖南省",
    "广东省",
    "海南省",
    "四川省",
    "贵州省",
    "云南省",
    "陕西省",
    "甘肃省",
    "青海省",
    "台湾省",
    "内蒙古自治区",
    "广西壮族自治区",
    "西藏自治区",
    "宁夏回族自治区",
    "新疆维吾尔自治区",
    "香港特别行政区",
    "澳门特别行政区",
];

/// Characters that mark a span as an address (administrative levels, streets, buildings).
pub(crate) const ADDRESS_LEVEL_MARKERS: &[&str] =
    &["省", "市", "区", "县", "镇", "乡", "自治州", "盟", "旗"];
pub(crate) const ADDRESS_DETAIL_MARKERS: &[&str] = &[
    "路", "街", "道", "巷", "弄", "号", "村", "组", "室", "栋", "幢", "单元", "小区", "大厦", "苑",
    "花园", "公寓", "社区", "楼",
];

/// Words before a date that make it a date of birth.
pub(crate) const BIRTH_CUES: &[&str] = &[
    "出生", "生日", "生于", "诞生", "DOB", "dob", "Birth", "birth", "BIRTH",
];
