//! Where a Chinese address ends. An address is read as a chain of components, each either
//! *named* (place-name characters closed by a marker: `朝阳区`, `建国路`, `阳光花园`) or
//! *numbered* (a number closed by a unit: `88号`, `3单元`, `502室`, `B座`, `12层`). The
//! address ends after the last component, so text running on without punctuation
//! (`…502室要求退还押金`) is left out.
//!
//! Once a numbered component has been read, a named one is taken only when another numbered
//! one follows it (`88号华贸中心3号楼`): after the house number, place-like words are far
//! more often the rest of the sentence (`88号反映小区物业问题` ends at `88号`).

use crate::charset::CharSet;
use crate::lexicon;

/// Markers closing a named component, longest first where one is a prefix of another.
const NAMED_MARKERS: &[&str] = &[
    "特别行政区",
    "自治区",
    "自治州",
    "自治县",
    "经济开发区",
    "开发区",
    "高新区",
    "新区",
    "工业园",
    "产业园",
    "科技园",
    "园区",
    "街道",
    "大街",
    "大道",
    "胡同",
    "社区",
    "小区",
    "新村",
    "家园",
    "花园",
    "公寓",
    "大厦",
    "大楼",
    "广场",
    "中心",
    "商城",
    "山庄",
    "宿舍",
    "省",
    "市",
    "区",
    "县",
    "旗",
    "盟",
    "镇",
    "乡",
    "村",
    "屯",
    "路",
    "街",
    "道",
    "巷",
    "弄",
    "苑",
    "园",
    "城",
    "湾",
    "坊",
    "里",
    "段",
];

static NAMED_FIRSTS: CharSet = CharSet::of_first_chars(NAMED_MARKERS);

/// Named markers of a street, after which the side of the street may stand
/// (`白沙大道西68号`).
const STREETS: &[&str] = &["路", "街", "道", "巷", "胡同"];
static SIDES: CharSet = CharSet::of_chars("东西南北");

/// Units closing a numbered component (`3号楼`, `502室`), longest first.
const UNIT_MARKERS: &[&str] = &[
    "号楼", "号院", "号房", "号", "室", "栋", "幢", "单元", "座", "楼", "层", "弄", "巷", "组",
    "户", "排", "期", "区", "街坊", "社", "队", "房", "铺", "段",
];

static UNIT_FIRSTS: CharSet = CharSet::of_first_chars(UNIT_MARKERS);

/// Characters that never stand inside a place name but often follow an address in a
/// sentence (`…朝阳区要求…`, `…的`): a named component containing one is not taken.
const NOT_IN_PLACE_NAMES: &str = "的了是在我你他她们请说称求把被因但并或及与也就已让";
static NOT_IN_PLACE_SET: CharSet = CharSet::of_chars(NOT_IN_PLACE_NAMES);
/// First characters of [`field_word_at`]'s words.
static FIELD_FIRSTS: CharSet = CharSet::of_chars("电手联邮姓身性");

/// Most characters a named component may have before its marker.
const MAX_NAMED: usize = 10;
/// Most characters in a whole address.
const MAX_ADDRESS: usize = 60;

fn is_han(c: char) -> bool {
    ('\u{4E00}'..='\u{9FFF}').contains(&c)
}

/// The first marker of `list` (whose first characters are `firsts`) at the start of
/// `rest`. This runs at every character of every address and of every place an address
/// might start (a province name, 地址 …): one bit test rules most characters out before
/// any marker is compared (comparing the ~50 markers' first characters there was a tenth
/// of the scan time).
#[inline]
fn marker_at(rest: &str, list: &[&'static str], firsts: &CharSet) -> Option<&'static str> {
    if !firsts.starts(rest.as_bytes()) {
        return None;
    }
    list.iter().copied().find(|m| rest.starts_with(m))
}

fn is_number_char(c: char) -> bool {
    c.is_ascii_alphanumeric()
        || matches!(c, '-' | '－' | '#' | '＃')
        || ('０'..='９').contains(&c)
        || "零〇一二三四五六七八九十百千两甲乙丙丁".contains(c)
}

/// A numbered component at `at`: `88号`, `附1号`, `B座`, `三单元`. Returns its end.
fn numbered_at(text: &str, at: usize) -> Option<usize> {
    let mut p = at;
    let rest = &text[p..];
    // `附1号`, `之2号`: an annex number.
    if let Some(c) = rest.chars().next().filter(|c| *c == '附' || *c == '之') {
        p += c.len_utf8();
    }
    // `白沙大道西68号`, `人民路东3号`: the side of a street, between the street's name and
    // the house number.
    if SIDES.starts(rest.as_bytes()) && STREETS.iter().any(|s| text[..at].ends_with(s)) {
        p += 3;
    }
    let num_start = p;
    for (n, c) in text[num_start..].chars().enumerate() {
        if !is_number_char(c) || n >= 10 {
            break;
        }
        p += c.len_utf8();
    }
    if p == num_start {
        return None;
    }
    // A lone Chinese numeral word is not a number here unless a unit follows it at once,
    // which the marker check below requires anyway.
    let unit = marker_at(&text[p..], UNIT_MARKERS, &UNIT_FIRSTS)?;
    Some(p + unit.len())
}

/// `5-3-201` after a house number (building-unit-room written with hyphens only), or a
/// bare room number after a building or unit (`2号楼1单元301`).
fn trailing_room_number(text: &str, at: usize, after_unit: bool) -> Option<usize> {
    let b = text.as_bytes();
    let mut p = at;
    let mut hyphens = 0;
    while p < b.len() && (b[p].is_ascii_digit() || b[p] == b'-') {
        hyphens += usize::from(b[p] == b'-');
        p += 1;
    }
    if p == at || !b[at].is_ascii_digit() || !b[p - 1].is_ascii_digit() {
        return None;
    }
    if b.get(p).is_some_and(u8::is_ascii_alphanumeric) {
        return None;
    }
    // Not a count or a date that happens to follow (`1单元2023年`, `3栋5户`).
    let next = text[p..].chars().next();
    let quantity = next.is_some_and(|c| "年月日元个次人件天户号".contains(c));
    let room = hyphens == 0 && after_unit && (3..=4).contains(&(p - at)) && !quantity;
    (hyphens > 0 || room).then_some(p)
}

/// A named component at `at`: up to [`MAX_NAMED`] place-name characters and a marker. With
/// `bare_marker`, a marker alone counts (`大街` right after `中关村`). Returns (end, marker).
fn named_at(text: &str, at: usize, bare_marker: bool) -> Option<(usize, &'static str)> {
    let mut p = at;
    let mut n = 0;
    loop {
        let rest = &text[p..];
        if n > 0 || bare_marker {
            if let Some(m) = marker_at(rest, NAMED_MARKERS, &NAMED_FIRSTS) {
                return Some((p + m.len(), m));
            }
        }
        let c = rest.chars().next()?;
        if n >= MAX_NAMED || !(is_han(c) || c.is_ascii_alphanumeric()) {
            return None;
        }
        if NOT_IN_PLACE_SET.contains(c) || field_word_at(rest) {
            return None;
        }
        p += c.len_utf8();
        n += 1;
    }
}

/// Field words that end an address in a form (`住址…电话…`).
fn field_word_at(rest: &str) -> bool {
    FIELD_FIRSTS.starts(rest.as_bytes())
        && ["电话", "手机", "联系", "邮编", "姓名", "身份证", "性别"]
            .iter()
            .any(|w| rest.starts_with(w))
}

/// The end of an address starting at `start`, or `None` when no component is there.
/// Also says whether the span has an administrative level and a street/building detail.
pub(crate) fn address_end(text: &str, start: usize) -> Option<usize> {
    let mut pos = start;
    let mut end = None;
    let mut numbered_seen = false;
    let mut last_named = false;
    let mut after_unit = false;
    loop {
        if text[start..pos].chars().count() >= MAX_ADDRESS {
            break;
        }
        if let Some(e) = numbered_at(text, pos) {
            after_unit = ["单元", "栋", "幢", "楼", "座"]
                .iter()
                .any(|u| text[..e].ends_with(u));
            pos = e;
            end = Some(e);
            numbered_seen = true;
            last_named = false;
            continue;
        }
        if let Some((e, _)) = named_at(text, pos, last_named) {
            if numbered_seen {
                // After the house number, a place-like word counts only before another
                // number (`88号华贸中心3号楼`).
                match numbered_at(text, e) {
                    Some(e2) => {
                        pos = e2;
                        end = Some(e2);
                        last_named = false;
                        continue;
                    }
                    None => break,
                }
            }
            pos = e;
            end = Some(e);
            last_named = true;
            continue;
        }
        if numbered_seen {
            if let Some(e) = trailing_room_number(text, pos, after_unit) {
                end = Some(e);
            }
        }
        break;
    }
    end
}

/// True if `span` has an administrative level (`市/区/县`…) and true if it has a street or
/// building detail (`路/号/室`…).
pub(crate) fn markers(span: &str) -> (bool, bool) {
    let level = lexicon::ADDRESS_LEVEL_MARKERS
        .iter()
        .any(|m| span.contains(m));
    let detail = lexicon::ADDRESS_DETAIL_MARKERS
        .iter()
        .any(|m| span.contains(m));
    (level, detail)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn end_of(text: &str) -> &str {
        &text[..address_end(text, 0).unwrap_or(0)]
    }

    #[test]
    fn ends_after_the_last_component() {
        for (text, want) in [
            (
                "北京市朝阳区建国路88号3单元502室要求退还押金",
                "北京市朝阳区建国路88号3单元502室",
            ),
            ("朝阳区建国路88号反映小区物业问题", "朝阳区建国路88号"),
            ("海淀区中关村大街27号院内", "海淀区中关村大街27号院"),
            (
                "浦东新区科技园路1号华贸中心3号楼B座12层",
                "浦东新区科技园路1号华贸中心3号楼B座12层",
            ),
            (
                "河南省信阳市浉河区人民路12号",
                "河南省信阳市浉河区人民路12号",
            ),
            ("建国路甲88号5-3-201，", "建国路甲88号5-3-201"),
            ("信阳市浉河区要求解决", "信阳市浉河区"),
            ("某某镇某某村三组的村民", "某某镇某某村三组"),
            ("人民路附1号", "人民路附1号"),
            ("白沙大道西68号。", "白沙大道西68号"),
            ("人民路东3号院内", "人民路东3号院"),
        ] {
            assert_eq!(end_of(text), want, "{text}");
        }
        for text in ["人民政府关于加强政务数据安全管理的通知", "不详", "同上"]
        {
            assert_eq!(address_end(text, 0), None, "{text}");
        }
    }
}
