//! The reviewer's programs for the async client on tokio, one function per
//! scenario: the blocking programs' steps (the same forms, `shared/forms.rs`)
//! with `.await`. Each returns what it observed, so
//! `tests/reviewer_programs.rs` can check the outcome.

use std::time::Duration;

use embedded_io_adapters::tokio_1::FromTokio;
use fcm242d::async_client::AsyncClient;
use fcm242d::generated::commands::{
    qbleadvstart, qblegattschar, qblegattssrv, qblegattssrvdone, qbleinit, qblename, qhttppost,
    qhttpread, qiclose, qmtcfg, qmtdisc,
};
use fcm242d::generated::shared::Qos;
use fcm242d::generated::urcs::Urc;
use fcm242d::timer::TokioTimer;
use fcm242d::value::{Text, Uuid};
use tokio::io::DuplexStream;

use crate::forms::{self, get, Env, Failure, MQTT, SOCKET};

/// The async client over the link of `shared/bridge.rs`.
pub type Modem<'a> = AsyncClient<'a, FromTokio<DuplexStream>, TokioTimer>;

/// Joins the access point and waits for `+QSTASTAT: "GOT_IP"`.
pub async fn join(client: &mut Modem<'_>, env: &Env) -> Result<(), Failure> {
    client.send(&forms::join(env)?).await?;
    let joined = client
        .wait_for_urc(Duration::from_secs(20), forms::got_ip)
        .await?;
    joined.ok_or("no IP address within 20 s")?;
    Ok(())
}

/// QIOPEN + QISEND: sends `payload` to the echo server and returns what
/// came back.
pub async fn qisend(client: &mut Modem<'_>, env: &Env, payload: &[u8]) -> Result<Vec<u8>, Failure> {
    join(client, env).await?;
    forms::opened(client.send(&forms::open_echo(env)?).await?.completion)?;
    client.send_payload(&forms::send(), payload).await?;
    let echoed = client
        .wait_for(Duration::from_secs(5), forms::received)
        .await?;
    client
        .send(&qiclose::Write {
            connect_id: SOCKET,
            timeout: None,
        })
        .await?;
    echoed.ok_or_else(|| "no echo within 5 s".into())
}

/// QMTCFG "will": sets a will, reads it back, clears it, reads it again.
pub async fn will(client: &mut Modem<'_>) -> Result<(qmtcfg::WillLine, qmtcfg::WillLine), Failure> {
    client.send(&forms::will()?).await?;
    let set = forms::will_line(client.send(&qmtcfg::Will::query(MQTT)).await?.lines)?;
    client.send(&qmtcfg::Will::clear(MQTT)).await?;
    let cleared = forms::will_line(client.send(&qmtcfg::Will::query(MQTT)).await?.lines)?;
    Ok((set, cleared))
}

/// QMTOPEN, QMTCONN, then QMTSUB with two topics: the QoS the broker
/// granted for each.
pub async fn qmtsub(client: &mut Modem<'_>, env: &Env) -> Result<Vec<Option<Qos>>, Failure> {
    join(client, env).await?;
    forms::broker_opened(client.send(&forms::open_broker(env)?).await?.completion)?;
    forms::connected(client.send(&forms::connect()?).await?.completion)?;
    let granted = forms::granted(client.send(&forms::subscribe()?).await?.completion)?;
    client.send(&qmtdisc::Write { client_idx: MQTT }).await?;
    Ok(granted)
}

/// QHTTPPOST of `body` to the echoing page, then QHTTPREAD: the status and
/// the body of the answer.
pub async fn qhttppost(
    client: &mut Modem<'_>,
    env: &Env,
    body: &[u8],
) -> Result<(i64, Vec<u8>), Failure> {
    join(client, env).await?;
    client.send(&forms::post_url(env)?).await?;
    let post = client.send_payload(&qhttppost::Write::body(), body).await?;
    let status = forms::posted(post.completion)?;
    let read = client.send(&qhttpread::Write { wait_time: None }).await?;
    Ok((status, read.data.concat()))
}

/// A BLE peripheral with one service: waits for the world's phone to
/// connect, then notifies it of `text`.
pub async fn ble_notify(client: &mut Modem<'_>, env: &Env, text: &str) -> Result<(), Failure> {
    client
        .send(&qbleinit::Write {
            role: qbleinit::Role::Peripheral,
            auto_adv: None,
        })
        .await?;
    client
        .send(&qblename::Write {
            ble_name: Text::new(get(env, "phone_name")?)?,
        })
        .await?;
    client
        .send(&qblegattssrv::Write {
            srv_uuid: Uuid::new(forms::SERVICE)?,
        })
        .await?;
    client
        .send(&qblegattschar::Write {
            char_uuid: Uuid::new(forms::CHARACTERISTIC)?,
            att_cfg: None,
        })
        .await?;
    client.send(&qblegattssrvdone::Execute {}).await?;
    client.send(&qbleadvstart::Execute {}).await?;
    let connected = client
        .wait_for_urc(Duration::from_secs(10), forms::phone_connected)
        .await?;
    connected.ok_or("the phone did not connect within 10 s")?;
    client.send(&forms::notify(text)?).await?;
    Ok(())
}

/// QPING: the replies and the summary, in order.
pub async fn qping(client: &mut Modem<'_>, env: &Env) -> Result<Vec<Urc>, Failure> {
    join(client, env).await?;
    Ok(client.send(&forms::ping(env)?).await?.series)
}
