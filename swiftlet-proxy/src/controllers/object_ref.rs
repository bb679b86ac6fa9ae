//! The resource an object request names, as the object verbs see it.

use crate::state::info::ContainerInfo;
use std::sync::Arc;

/// An object's names, with its container's facts.
pub(crate) struct ObjectRef<'a> {
    pub account: &'a str,
    pub container: &'a str,
    pub object: &'a str,
    pub info: Arc<ContainerInfo>,
}
