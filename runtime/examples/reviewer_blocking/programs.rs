//! The reviewer's programs for the blocking client, one function per
//! scenario, written against the crate's documentation. Each returns what it
//! observed, so `tests/reviewer_programs.rs` can check the outcome.

use std::time::Duration;

use fcm242d::client::Client;
use fcm242d::generated::commands::{
    qbleadvstart, qblegattschar, qblegattssrv, qblegattssrvdone, qbleinit, qblename, qhttppost,
    qhttpread, qiclose, qmtcfg, qmtdisc,
};
use fcm242d::generated::shared::Qos;
use fcm242d::generated::urcs::Urc;
use fcm242d::transport::Transport;
use fcm242d::value::{Text, Uuid};

use crate::forms::{self, get, Env, Failure, MQTT, SOCKET};

/// Joins the access point and waits for `+QSTASTAT: "GOT_IP"`.
pub fn join<T: Transport>(client: &mut Client<T>, env: &Env) -> Result<(), Failure> {
    client.send(&forms::join(env)?)?;
    let joined = client.wait_for_urc(Duration::from_secs(20), forms::got_ip)?;
    joined.ok_or("no IP address within 20 s")?;
    Ok(())
}

/// QIOPEN + QISEND: sends `payload` to the echo server and returns what
/// came back.
pub fn qisend<T: Transport>(
    client: &mut Client<T>,
    env: &Env,
    payload: &[u8],
) -> Result<Vec<u8>, Failure> {
    join(client, env)?;
    forms::opened(client.send(&forms::open_echo(env)?)?.completion)?;
    client.send_payload(&forms::send(), payload)?;
    let echoed = client.wait_for(Duration::from_secs(5), forms::received)?;
    client.send(&qiclose::Write {
        connect_id: SOCKET,
        timeout: None,
    })?;
    echoed.ok_or_else(|| "no echo within 5 s".into())
}

/// QMTCFG "will": sets a will, reads it back, clears it, reads it again.
pub fn will<T: Transport>(
    client: &mut Client<T>,
) -> Result<(qmtcfg::WillLine, qmtcfg::WillLine), Failure> {
    client.send(&forms::will()?)?;
    let set = forms::will_line(client.send(&qmtcfg::Will::query(MQTT))?.lines)?;
    client.send(&qmtcfg::Will::clear(MQTT))?;
    let cleared = forms::will_line(client.send(&qmtcfg::Will::query(MQTT))?.lines)?;
    Ok((set, cleared))
}

/// QMTOPEN, QMTCONN, then QMTSUB with two topics: the QoS the broker
/// granted for each.
pub fn qmtsub<T: Transport>(
    client: &mut Client<T>,
    env: &Env,
) -> Result<Vec<Option<Qos>>, Failure> {
    join(client, env)?;
    forms::broker_opened(client.send(&forms::open_broker(env)?)?.completion)?;
    forms::connected(client.send(&forms::connect()?)?.completion)?;
    let granted = forms::granted(client.send(&forms::subscribe()?)?.completion)?;
    client.send(&qmtdisc::Write { client_idx: MQTT })?;
    Ok(granted)
}

/// QHTTPPOST of `body` to the echoing page, then QHTTPREAD: the status and
/// the body of the answer.
pub fn qhttppost<T: Transport>(
    client: &mut Client<T>,
    env: &Env,
    body: &[u8],
) -> Result<(i64, Vec<u8>), Failure> {
    join(client, env)?;
    client.send(&forms::post_url(env)?)?;
    let status = forms::posted(
        client
            .send_payload(&qhttppost::Write::body(), body)?
            .completion,
    )?;
    let read = client.send(&qhttpread::Write { wait_time: None })?;
    Ok((status, read.data.concat()))
}

/// A BLE peripheral with one service: waits for the world's phone to
/// connect, then notifies it of `text`.
pub fn ble_notify<T: Transport>(
    client: &mut Client<T>,
    env: &Env,
    text: &str,
) -> Result<(), Failure> {
    client.send(&qbleinit::Write {
        role: qbleinit::Role::Peripheral,
        auto_adv: None,
    })?;
    client.send(&qblename::Write {
        ble_name: Text::new(get(env, "phone_name")?)?,
    })?;
    client.send(&qblegattssrv::Write {
        srv_uuid: Uuid::new(forms::SERVICE)?,
    })?;
    client.send(&qblegattschar::Write {
        char_uuid: Uuid::new(forms::CHARACTERISTIC)?,
        att_cfg: None,
    })?;
    client.send(&qblegattssrvdone::Execute {})?;
    client.send(&qbleadvstart::Execute {})?;
    let connected = client.wait_for_urc(Duration::from_secs(10), forms::phone_connected)?;
    connected.ok_or("the phone did not connect within 10 s")?;
    client.send(&forms::notify(text)?)?;
    Ok(())
}

/// QPING: the replies and the summary, in order.
pub fn qping<T: Transport>(client: &mut Client<T>, env: &Env) -> Result<Vec<Urc>, Failure> {
    join(client, env)?;
    Ok(client.send(&forms::ping(env)?)?.series)
}
