//! What kind of failure a call to a Microsoft API met: the kind the adapters say and the workflow
//! names its errors by. A leaf, so the HTTP core and the interface share it without depending on
//! each other.

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorKind {
    /// 5xx, timeout or broken connection, still so after the retries.
    Transient,
    /// 429, still so after the retries.
    Throttled,
    /// 401 after one token refresh, 403, or the token endpoint refused the credentials.
    Unauthorized,
    NotFound,
    /// 409: the resource exists and no If-Match was sent, or another operation holds the offer.
    Conflict,
    /// 412: the write was refused as based on a stale read (or, after a lost answer, was applied).
    PreconditionFailed,
    /// The draft changed since it was read, seen before anything was written: read it again.
    Changed,
    /// 400 / 422 and other 4xx, or a job Microsoft ended as failed: the request or document was refused.
    Rejected,
    /// A response this client cannot read.
    Decode,
    /// The request could not be built from the client's settings.
    Config,
    /// The offer does not exist, or the credentials cannot see it.
    OfferNotFound,
    /// The offer has no such plan.
    PlanNotFound,
    /// The offer or plan cannot take an image version this way (not a VM offer, no image type).
    InvalidOffer,
    /// Another operation holds the offer.
    Busy,
    /// The preview is not the newest one: publishing again is the way on, not a retry.
    Stale,
}
