//! `GET /api/v3/billing/account` (api-v3 §2.10): a self-hosted server bills nothing, but the
//! Python SDK's `AccountView` requires every field, and clients read the limits from it.

use axum::Json;
use axum::extract::State;
use serde_json::{Value, json};

use crate::state::AppState;

/// `AccountView`: no credits to count, the real concurrent limit and active count.
pub async fn account(State(app): State<AppState>) -> Json<Value> {
    let limit = app.sessions.limits().max_sessions;
    Json(json!({
        "name": "Tandem (self-hosted)",
        "totalCreditsBalanceUsd": 0.0,
        "monthlyCreditsBalanceUsd": 0.0,
        "additionalCreditsBalanceUsd": 0.0,
        "rateLimit": limit,
        "concurrentSessionLimit": limit,
        "activeSessionCount": app.owners.active_count(),
        "planInfo": {
            "planName": "self-hosted",
            "subscriptionStatus": null,
            "subscriptionId": null,
            "subscriptionCurrentPeriodEnd": null,
            "subscriptionCanceledAt": null,
        },
        "isFreeTier": false,
        "projectId": app.project_id,
        "apiKeyId": null,
        "tracingDisabled": true,
    }))
}
