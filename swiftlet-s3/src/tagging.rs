//! Object tagging: the tag set is kept as a query string in transient system metadata,
//! which a Swift POST can change (POST replaces all metadata, so the rest is re-sent).

use crate::buckets::{empty_response, read_body, xml_response, MAX_CONFIG_BODY};
use crate::context::S3Ctx;
use crate::error::{Result, S3Error};
use crate::headers::{PLAIN_HEADERS, SYSMETA_TAGGING};
use crate::objects::{head_object, object_location};
use crate::swift::error_for;
use crate::tags::check_tags;
use crate::tags::parse_tag_query;
use crate::tags::tag_query;
use crate::xml::{self, XmlWriter};
use common::headers::set;
use common::http::Body;
use http::{HeaderMap, Method, Response, StatusCode};

pub(crate) async fn get_tags(ctx: &S3Ctx<'_>) -> Result<Response<Body>> {
    let h = head_object(ctx).await?;
    let tags = parse_tag_query(common::headers::get(&h, SYSMETA_TAGGING).unwrap_or(""))?;
    let mut x = XmlWriter::new();
    x.root("Tagging");
    x.open("TagSet");
    for (k, v) in &tags {
        x.open("Tag");
        x.elem("Key", k);
        x.elem("Value", v);
        x.close("Tag");
    }
    x.close("TagSet");
    x.close("Tagging");
    Ok(xml_response(StatusCode::OK, x.finish()))
}

/// POSTs the object's current metadata back with a new tag set.
async fn set_tags(ctx: &S3Ctx<'_>, tags: &[(String, String)]) -> Result<()> {
    let current = head_object(ctx).await?;
    let mut h = HeaderMap::new();
    for (name, value) in &current {
        let n = name.as_str();
        let kept = n.starts_with("x-object-meta-")
            || (n.starts_with("x-object-transient-sysmeta-") && n != SYSMETA_TAGGING)
            || PLAIN_HEADERS.contains(&n)
            || n == "content-encoding"
            || n == "x-delete-at";
        if kept {
            h.append(name.clone(), value.clone());
        }
    }
    set(&mut h, SYSMETA_TAGGING, &tag_query(tags));
    let (c, o) = object_location(ctx);
    let r = ctx.swift.small(Method::POST, Some(&c), Some(&o), &[], h).await?;
    if !r.status.is_success() {
        return Err(error_for(r.status, &r.body, S3Error::NoSuchKey));
    }
    Ok(())
}

pub(crate) async fn put_tags(ctx: &S3Ctx<'_>, body: Body) -> Result<Response<Body>> {
    let doc = read_body(ctx, body, MAX_CONFIG_BODY).await?;
    let root = xml::parse(&doc)?;
    let set_el = root.child("TagSet").filter(|_| root.name == "Tagging").ok_or(S3Error::MalformedXML)?;
    let mut tags = Vec::new();
    for t in set_el.children("Tag") {
        let (Some(k), Some(v)) = (t.child_text("Key"), t.child_text("Value")) else {
            return Err(S3Error::MalformedXML);
        };
        tags.push((k.to_string(), v.to_string()));
    }
    check_tags(&tags)?;
    set_tags(ctx, &tags).await?;
    Ok(empty_response(StatusCode::OK))
}

pub(crate) async fn delete_tags(ctx: &S3Ctx<'_>) -> Result<Response<Body>> {
    set_tags(ctx, &[]).await?;
    Ok(empty_response(StatusCode::NO_CONTENT))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tag_sets() {
        let t = parse_tag_query("a=1&b=x%20y").unwrap();
        assert_eq!(t, vec![("a".into(), "1".into()), ("b".into(), "x y".into())]);
        assert_eq!(parse_tag_query(&tag_query(&t)).unwrap(), t);
        assert!(parse_tag_query("a=1&a=2").is_err());
        assert!(parse_tag_query(&(0..11).map(|i| format!("k{i}=v")).collect::<Vec<_>>().join("&")).is_err());
        assert!(parse_tag_query(&format!("{}=v", "k".repeat(129))).is_err());
    }
}
