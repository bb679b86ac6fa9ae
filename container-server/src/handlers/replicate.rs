//! `REPLICATE /<dev>/<part>/<hash>[/db]`: the DB replication RPC (the operations are in
//! `swiftlet_broker::rpc`, shared with the account server).

use crate::error::Result;
use crate::server::App;
use common::http::Body;
use http::Response;
use hyper::body::Incoming;

pub async fn replicate(app: &App, req: http::Request<Incoming>) -> Result<Response<Body>> {
    Ok(swiftlet_broker::rpc::serve(&app.store, req).await?)
}
