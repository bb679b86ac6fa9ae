//! Authentication (who is asking) and authorization (may they do this): identities,
//! tempauth and Keystone tokens, container ACLs and the permission check. Plain functions
//! and types: the pipeline's steps call them.

pub(crate) mod acl;
pub(crate) mod authorize;
pub(crate) mod identity;
pub(crate) mod keystone;
pub(crate) mod tempauth;
