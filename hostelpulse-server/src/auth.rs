//! Bearer tokens for the standalone console: only their SHA-256 hashes are kept, and a request's
//! token is hashed and compared with each in constant time. A browser signs in once at `/login`
//! with the same token, kept in an `HttpOnly`, `SameSite=Strict` cookie (which also keeps other
//! sites from posting the console's forms).

use axum::Form;
use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use maud::html;
use serde::Deserialize;
use sha2::{Digest, Sha256};

use crate::Console;
use crate::problem::Problem;

const COOKIE: &str = "hostelpulse_console";

/// The SHA-256 of a bearer token, as [`crate::ConsoleBuilder::bearer_token_hashes`] keeps it.
pub fn token_hash(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

fn same(a: &[u8; 32], b: &[u8; 32]) -> bool {
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn known(console: &Console, token: &str) -> bool {
    let h = token_hash(token.trim());
    console.inner.tokens.iter().any(|k| same(k, &h))
}

fn presented(request: &Request) -> Option<String> {
    let headers = request.headers();
    if let Some(t) =
        headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).and_then(|v| v.strip_prefix("Bearer "))
    {
        return Some(t.to_owned());
    }
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|c| c.trim().strip_prefix(COOKIE)?.strip_prefix('=').map(str::to_owned))
}

pub(crate) async fn require_bearer(State(console): State<Console>, request: Request, next: Next) -> Response {
    let path = request.uri().path();
    if path.ends_with("/login") {
        return next.run(request).await;
    }
    if presented(&request).is_some_and(|t| known(&console, &t)) {
        return next.run(request).await;
    }
    let program = request.headers().contains_key(header::AUTHORIZATION);
    if !program && !path.contains("/api/") && request.method() == axum::http::Method::GET {
        // A person at a browser: sign in first.
        let depth = path.trim_start_matches('/').matches('/').count();
        return Redirect::to(&format!("{}login", "../".repeat(depth))).into_response();
    }
    let mut r =
        Problem::new(StatusCode::UNAUTHORIZED, "unauthorized", "a valid bearer token is required").into_response();
    r.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    r
}

pub(crate) fn routes() -> Router<Console> {
    Router::new()
        .route("/login", get(login_page).post(login))
        .layer(axum::middleware::from_fn(crate::pages::same_site_forms))
}

async fn login_page() -> maud::Markup {
    crate::pages::page(
        "Sign in",
        html! {
            form method="post" action="login" {
                div { label for="token" { "Console token" } input #token type="password" name="token" required autocomplete="current-password"; }
                p { button type="submit" { "Sign in" } }
            }
        },
    )
}

#[derive(Debug, Deserialize)]
struct LoginForm {
    token: String,
}

async fn login(State(console): State<Console>, Form(f): Form<LoginForm>) -> Response {
    if console.inner.tokens.is_empty() || !known(&console, &f.token) {
        let page = crate::pages::page(
            "Sign in",
            html! { p.bad role="alert" { "That token is not valid." } a href="login" { "Try again" } },
        );
        return (StatusCode::UNAUTHORIZED, page).into_response();
    }
    let mut r = Redirect::to("./").into_response();
    let cookie = format!("{COOKIE}={}; HttpOnly; SameSite=Strict; Path=/", f.token.trim());
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        r.headers_mut().insert(header::SET_COOKIE, v);
    }
    r
}
