//! Training and inference with each party on its own TCP endpoint (loopback), through the same
//! `run_party` entry point a separate process would call.
#![allow(clippy::unwrap_used, clippy::panic)]

use std::net::TcpListener;
use std::thread;

use ndarray::Array2;
use veil_rtas::model::{
    CnnSpec, Dataset, Mode, ModelSpec, TrainConfig, accuracy, deal_inputs, run_party, train_plain,
};
use veil_rtas::transport::{Security, TcpOptions, TcpTransport};
use veil_rtas::{ProtocolConfig, Role};

fn synthetic(n: usize, features: usize) -> Dataset {
    let x = Array2::from_shape_fn((n, features), |(i, j)| {
        ((i * 13 + j * 7) % 17) as f64 / 16.0
    });
    let labels = (0..n)
        .map(|i| ((x.row(i).sum() * 3.0) as usize) % 10)
        .collect();
    Dataset { x, labels }
}

fn over_tcp(config: TrainConfig, data: Dataset) {
    let (train, test) = data.split(64, 5);
    let protocol = ProtocolConfig::default();
    let [i0, i1] = deal_inputs(
        &config,
        protocol.fixed_point,
        &train,
        &test,
        &mut rand::rng(),
    )
    .unwrap();
    let listeners = [0, 1, 2].map(|_| TcpListener::bind("127.0.0.1:0").unwrap());
    let addrs = [0, 1, 2].map(|i| listeners[i].local_addr().unwrap());
    let [l0, l1, l2] = listeners;
    let opts = TcpOptions::default();
    let channels = Security::Noise.channels().unwrap();
    let reports = thread::scope(|scope| {
        let party = |role: Role, l: TcpListener, input| {
            let (config, protocol, opts) = (&config, &protocol, &opts);
            let channel = &channels[role.index()];
            scope.spawn(move || {
                let t = TcpTransport::with_listener(role, l, &addrs, opts, channel)?;
                run_party(role, config, protocol, Box::new(t), input)
            })
        };
        let h2 = party(Role::P2, l2, None);
        let h1 = party(Role::P1, l1, Some(i1));
        let h0 = party(Role::P0, l0, Some(i0));
        [h0, h1, h2].map(|h| h.join().unwrap().unwrap())
    });
    let secure = accuracy(
        &config.model,
        reports[0].scores.as_ref().unwrap(),
        &test.labels,
    );
    let (_, plain) = train_plain(&config, &train, &test).unwrap();
    println!(
        "{:?} over TCP: secure {secure}, plaintext {plain}, P0 {:?}",
        config.mode, reports[0].stats
    );
    assert!(
        (secure - plain).abs() <= 0.02,
        "secure {secure} vs plaintext {plain}"
    );
    assert!(reports[1].scores.is_none() && reports[2].scores.is_none());
    assert!(reports.iter().all(|r| r.stats.bytes_sent > 0));
}

#[test]
fn logistic_regression_over_tcp() {
    let config = TrainConfig::paper(ModelSpec::Logistic { features: 16 }, Mode::Rtas, 3);
    over_tcp(config, synthetic(320, 16));
}

#[test]
fn small_cnn_over_tcp_rtas_fast() {
    let mut spec = CnnSpec::digits();
    spec.hidden = 16;
    let config = TrainConfig::paper(ModelSpec::Cnn(spec), Mode::RtasFast, 2);
    over_tcp(config, synthetic(320, 64));
}

/// P0 brings the data in the clear (as `veil rtas party` does); P1 learns only the sizes.
fn owner_run(
    p1_epochs: usize,
) -> (
    veil_rtas::Result<veil_rtas::model::PartyReport>,
    veil_rtas::Result<veil_rtas::model::PartyReport>,
    TrainConfig,
    Dataset,
) {
    use veil_rtas::model::run_party_owner;
    use veil_rtas::transport::memory_network;
    let (train, test) = synthetic(320, 16).split(64, 5);
    let config_for = |epochs: usize| {
        move |features: usize| {
            TrainConfig::paper(ModelSpec::Logistic { features }, Mode::Rtas, epochs)
        }
    };
    let protocol = ProtocolConfig::default();
    let [t0, t1, t2] = memory_network();
    let (r0, r1) = thread::scope(|scope| {
        let p = &protocol;
        let h2 =
            scope.spawn(move || run_party_owner(Role::P2, p, Box::new(t2), None, config_for(0)));
        let h1 = scope
            .spawn(move || run_party_owner(Role::P1, p, Box::new(t1), None, config_for(p1_epochs)));
        let r0 = run_party_owner(
            Role::P0,
            p,
            Box::new(t0),
            Some((&train, &test)),
            config_for(3),
        );
        let _ = h2.join().unwrap();
        (r0, h1.join().unwrap())
    });
    (r0, r1, config_for(3)(16), test)
}

#[test]
fn label_holder_inputs_the_data_itself() {
    let (r0, r1, config, test) = owner_run(3);
    let r0 = r0.unwrap();
    r1.unwrap();
    let secure = accuracy(&config.model, r0.scores.as_ref().unwrap(), &test.labels);
    assert!(secure > 0.5, "accuracy {secure}");
    assert_eq!(r0.steps, 3 * (256 / 32));
}

#[test]
fn mismatched_settings_are_refused() {
    let (r0, r1, _, _) = owner_run(4);
    let e1 = r1.unwrap_err().to_string();
    assert!(e1.contains("disagree on the settings"), "{e1}");
    assert!(r0.is_err());
}
