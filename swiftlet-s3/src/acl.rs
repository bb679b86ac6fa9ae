//! Bucket ACLs are the container's Swift ACLs, so they grant real rights on both APIs:
//! READ to all users is `.r:*,.rlistings`, to a user `account:user`; WRITE is the write
//! ACL. Canned ACLs (`x-amz-acl`), grant headers (`x-amz-grant-*`) and
//! `AccessControlPolicy` documents all map onto those two lists. Objects inherit their
//! bucket's rights, as in Swift; their own ACL is always the owner's full control.

use crate::buckets::{empty_response, head_container, read_body, xml_response, MAX_CONFIG_BODY};
use crate::context::S3Ctx;
use crate::error::{Result, S3Error};
use crate::objects::head_object;
use crate::swift::error_for;
use crate::xml::{self, XmlWriter};
use common::headers::{get, set};
use common::http::Body;
use http::{HeaderMap, Method, Response, StatusCode};

const ALL_USERS: &str = "http://acs.amazonaws.com/groups/global/AllUsers";
const AUTHENTICATED_USERS: &str = "http://acs.amazonaws.com/groups/global/AuthenticatedUsers";

/// Whom a grant names.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Grantee {
    AllUsers,
    AuthenticatedUsers,
    /// A user, by its access key (`account:user`).
    User(String),
}

/// The two Swift ACL lists of a bucket, as grantees.
#[derive(Debug, Default, PartialEq, Eq)]
struct Grants {
    read: Vec<Grantee>,
    write: Vec<Grantee>,
}

impl Grants {
    fn canned(name: &str) -> Result<Grants> {
        Ok(match name {
            "private" | "bucket-owner-read" | "bucket-owner-full-control" | "log-delivery-write" | "aws-exec-read" => {
                Grants::default()
            }
            "public-read" => Grants { read: vec![Grantee::AllUsers], write: vec![] },
            "public-read-write" => Grants { read: vec![Grantee::AllUsers], write: vec![Grantee::AllUsers] },
            "authenticated-read" => Grants { read: vec![Grantee::AuthenticatedUsers], write: vec![] },
            other => return Err(S3Error::InvalidArgument(format!("unknown canned ACL {other}"))),
        })
    }

    fn add(&mut self, permission: &str, who: Grantee, owner: &str) -> Result<()> {
        if who == Grantee::User(owner.to_string()) {
            return Ok(()); // the owner always has full control
        }
        match permission {
            "READ" => self.read.push(who),
            "WRITE" => self.write.push(who),
            "FULL_CONTROL" => {
                self.read.push(who.clone());
                self.write.push(who);
            }
            // Reading or writing the ACL itself stays with the owner.
            "READ_ACP" | "WRITE_ACP" => {}
            _ => return Err(S3Error::MalformedACLError),
        }
        Ok(())
    }

    /// `X-Container-Read`/`-Write` values (empty clears).
    fn swift_headers(&self) -> HeaderMap {
        let list = |g: &[Grantee], read: bool| {
            let mut out: Vec<String> = Vec::new();
            for who in g {
                let entry = match who {
                    Grantee::AllUsers if read => ".r:*,.rlistings".to_string(),
                    Grantee::AllUsers | Grantee::AuthenticatedUsers => "*".to_string(),
                    Grantee::User(u) => u.clone(),
                };
                if !out.contains(&entry) {
                    out.push(entry);
                }
            }
            out.join(",")
        };
        let mut h = HeaderMap::new();
        set(&mut h, "x-container-read", &list(&self.read, true));
        set(&mut h, "x-container-write", &list(&self.write, false));
        h
    }

    fn from_swift(h: &HeaderMap) -> Grants {
        let parse = |v: Option<&str>, read: bool| {
            let mut out = Vec::new();
            for e in v.unwrap_or("").split(',').map(str::trim).filter(|e| !e.is_empty()) {
                let who = match e {
                    ".r:*" if read => Grantee::AllUsers,
                    "*" if !read => Grantee::AllUsers,
                    "*" => Grantee::AuthenticatedUsers,
                    e if e.starts_with('.') => continue,
                    e => Grantee::User(e.to_string()),
                };
                if !out.contains(&who) {
                    out.push(who);
                }
            }
            out
        };
        Grants { read: parse(get(h, "x-container-read"), true), write: parse(get(h, "x-container-write"), false) }
    }
}

/// `id="account:user", uri="http://acs.amazonaws.com/groups/global/AllUsers"`.
fn parse_grant_header(v: &str) -> Result<Vec<Grantee>> {
    let mut out = Vec::new();
    for item in v.split(',').map(str::trim).filter(|i| !i.is_empty()) {
        let (kind, value) = item.split_once('=').ok_or(S3Error::InvalidArgument(format!("bad grant {item}")))?;
        let value = value.trim().trim_matches('"');
        out.push(match (kind.trim().to_ascii_lowercase().as_str(), value) {
            ("uri", ALL_USERS) => Grantee::AllUsers,
            ("uri", AUTHENTICATED_USERS) => Grantee::AuthenticatedUsers,
            ("id", id) if !id.is_empty() => Grantee::User(id.to_string()),
            ("emailaddress", _) => return Err(S3Error::NotImplemented("grants by e-mail address".into())),
            _ => return Err(S3Error::InvalidArgument(format!("bad grant {item}"))),
        });
    }
    Ok(out)
}

/// The grants a request's headers ask for, if any: a canned ACL or `x-amz-grant-*`.
fn grants_from_headers(ctx: &S3Ctx<'_>) -> Result<Option<Grants>> {
    let owner = ctx.owner();
    let grant_headers =
        [("x-amz-grant-read", "READ"), ("x-amz-grant-write", "WRITE"), ("x-amz-grant-full-control", "FULL_CONTROL")];
    let has_grants = grant_headers.iter().any(|(h, _)| ctx.headers.contains_key(*h));
    match (ctx.header("x-amz-acl"), has_grants) {
        (Some(_), true) => {
            Err(S3Error::InvalidRequest("specify either a canned ACL or grant headers, not both".into()))
        }
        (Some(canned), false) => Grants::canned(canned).map(Some),
        (None, true) => {
            let mut g = Grants::default();
            for (header, permission) in grant_headers {
                if let Some(v) = ctx.header(header) {
                    for who in parse_grant_header(v)? {
                        g.add(permission, who, &owner)?;
                    }
                }
            }
            Ok(Some(g))
        }
        (None, false) => Ok(None),
    }
}

/// The container ACL headers of a CreateBucket.
pub(crate) fn acl_headers_from_request(ctx: &S3Ctx<'_>) -> Result<HeaderMap> {
    Ok(grants_from_headers(ctx)?.map(|g| g.swift_headers()).unwrap_or_default())
}

fn policy_document(owner: &str, g: &Grants) -> String {
    let mut x = XmlWriter::new();
    x.root("AccessControlPolicy");
    x.open("Owner");
    x.elem("ID", owner);
    x.elem("DisplayName", owner);
    x.close("Owner");
    x.open("AccessControlList");
    let grant = |x: &mut XmlWriter, who: &Grantee, permission: &str| {
        x.open("Grant");
        match who {
            Grantee::User(id) => {
                x.open_with(
                    "Grantee",
                    "xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" xsi:type=\"CanonicalUser\"",
                );
                x.elem("ID", id);
                x.elem("DisplayName", id);
            }
            Grantee::AllUsers | Grantee::AuthenticatedUsers => {
                x.open_with("Grantee", "xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" xsi:type=\"Group\"");
                x.elem("URI", if *who == Grantee::AllUsers { ALL_USERS } else { AUTHENTICATED_USERS });
            }
        }
        x.close("Grantee");
        x.elem("Permission", permission);
        x.close("Grant");
    };
    grant(&mut x, &Grantee::User(owner.to_string()), "FULL_CONTROL");
    for who in &g.read {
        grant(&mut x, who, "READ");
    }
    for who in &g.write {
        grant(&mut x, who, "WRITE");
    }
    x.close("AccessControlList");
    x.close("AccessControlPolicy");
    x.finish()
}

/// Grants of an `AccessControlPolicy` document.
fn grants_from_document(doc: &[u8], owner: &str) -> Result<Grants> {
    let root = xml::parse(doc).map_err(|_| S3Error::MalformedACLError)?;
    if root.name != "AccessControlPolicy" {
        return Err(S3Error::MalformedACLError);
    }
    let list = root.child("AccessControlList").ok_or(S3Error::MalformedACLError)?;
    let mut g = Grants::default();
    for grant in list.children("Grant") {
        let grantee = grant.child("Grantee").ok_or(S3Error::MalformedACLError)?;
        let who = if let Some(id) = grantee.child_text("ID") {
            Grantee::User(id.trim().to_string())
        } else if let Some(uri) = grantee.child_text("URI") {
            match uri.trim() {
                ALL_USERS => Grantee::AllUsers,
                AUTHENTICATED_USERS => Grantee::AuthenticatedUsers,
                _ => return Err(S3Error::MalformedACLError),
            }
        } else if grantee.child("EmailAddress").is_some() {
            return Err(S3Error::NotImplemented("grants by e-mail address".into()));
        } else {
            return Err(S3Error::MalformedACLError);
        };
        g.add(grant.child_text("Permission").unwrap_or("").trim(), who, owner)?;
    }
    Ok(g)
}

pub(crate) async fn get_bucket_acl(ctx: &S3Ctx<'_>) -> Result<Response<Body>> {
    let h = head_container(ctx).await?;
    Ok(xml_response(StatusCode::OK, policy_document(&ctx.owner(), &Grants::from_swift(&h))))
}

pub(crate) async fn put_bucket_acl(ctx: &S3Ctx<'_>, body: Body) -> Result<Response<Body>> {
    let doc = read_body(ctx, body, MAX_CONFIG_BODY).await?;
    let grants = match grants_from_headers(ctx)? {
        Some(g) => g,
        None if doc.iter().all(u8::is_ascii_whitespace) => {
            return Err(S3Error::MissingSecurityHeader(
                "x-amz-acl, x-amz-grant-* or an AccessControlPolicy body".into(),
            ))
        }
        None => grants_from_document(&doc, &ctx.owner())?,
    };
    let r = ctx.swift.small(Method::POST, Some(ctx.bucket()), None, &[], grants.swift_headers()).await?;
    if !r.status.is_success() {
        return Err(error_for(r.status, &r.body, S3Error::NoSuchBucket));
    }
    Ok(empty_response(StatusCode::OK))
}

pub(crate) async fn get_object_acl(ctx: &S3Ctx<'_>) -> Result<Response<Body>> {
    head_object(ctx).await?;
    Ok(xml_response(StatusCode::OK, policy_document(&ctx.owner(), &Grants::default())))
}

/// Objects have their bucket's rights; only an ACL that changes nothing is accepted.
pub(crate) async fn put_object_acl(ctx: &S3Ctx<'_>, body: Body) -> Result<Response<Body>> {
    let doc = read_body(ctx, body, MAX_CONFIG_BODY).await?;
    head_object(ctx).await?;
    let grants = match grants_from_headers(ctx)? {
        Some(g) => g,
        None => grants_from_document(&doc, &ctx.owner())?,
    };
    if grants != Grants::default() {
        return Err(S3Error::NotImplemented("per-object ACLs (objects take their bucket's ACL)".into()));
    }
    Ok(empty_response(StatusCode::OK))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canned_acls_map_to_swift() {
        let h = Grants::canned("public-read").unwrap().swift_headers();
        assert_eq!(get(&h, "x-container-read"), Some(".r:*,.rlistings"));
        assert_eq!(get(&h, "x-container-write"), Some(""));
        let h = Grants::canned("public-read-write").unwrap().swift_headers();
        assert_eq!(get(&h, "x-container-write"), Some("*"));
        assert_eq!(Grants::from_swift(&h), Grants::canned("public-read-write").unwrap());
        assert!(Grants::canned("bogus").is_err());
    }

    #[test]
    fn documents_round_trip() {
        let g = Grants { read: vec![Grantee::User("test:tester3".into()), Grantee::AllUsers], write: vec![] };
        let doc = policy_document("test:tester", &g);
        assert_eq!(grants_from_document(doc.as_bytes(), "test:tester").unwrap(), g);
        assert!(matches!(grants_from_document(b"<AccessControlPolicy/>", "o"), Err(S3Error::MalformedACLError)));
        assert!(matches!(grants_from_document(b"<nope", "o"), Err(S3Error::MalformedACLError)));
        assert_eq!(
            parse_grant_header("id=\"test:tester3\", uri=\"http://acs.amazonaws.com/groups/global/AllUsers\"").unwrap(),
            vec![Grantee::User("test:tester3".into()), Grantee::AllUsers]
        );
    }
}
