//! Authentication (who is asking) and authorization (may they do this): identities,
//! tempauth and Keystone tokens, container ACLs and the permission check. Plain functions
//! and types: the pipeline's steps call them.

pub mod acl;
pub mod authorize;
pub mod identity;
pub mod keystone;
pub mod tempauth;
