//! Object tags as S3 limits them, and as Swift keeps them: a query string.

use crate::error::{Result, S3Error};

const MAX_TAGS: usize = 10;
const MAX_TAG_KEY: usize = 128;
const MAX_TAG_VALUE: usize = 256;

pub(crate) fn check_tags(tags: &[(String, String)]) -> Result<()> {
    if tags.len() > MAX_TAGS {
        return Err(S3Error::InvalidTag(format!("at most {MAX_TAGS} tags")));
    }
    for (i, (k, v)) in tags.iter().enumerate() {
        if k.is_empty() || k.chars().count() > MAX_TAG_KEY || v.chars().count() > MAX_TAG_VALUE {
            return Err(S3Error::InvalidTag(format!("tag {k:?} has a bad key or value length")));
        }
        if tags[..i].iter().any(|(k2, _)| k2 == k) {
            return Err(S3Error::InvalidTag(format!("tag {k:?} appears twice")));
        }
    }
    Ok(())
}

/// `k1=v1&k2=v2` (the `x-amz-tagging` header form) to pairs.
pub(crate) fn parse_tag_query(q: &str) -> Result<Vec<(String, String)>> {
    let tags: Vec<(String, String)> =
        form_urlencoded::parse(q.as_bytes()).map(|(k, v)| (k.into_owned(), v.into_owned())).collect();
    check_tags(&tags)?;
    Ok(tags)
}

pub(crate) fn tag_query(tags: &[(String, String)]) -> String {
    let mut s = form_urlencoded::Serializer::new(String::new());
    for (k, v) in tags {
        s.append_pair(k, v);
    }
    s.finish()
}
