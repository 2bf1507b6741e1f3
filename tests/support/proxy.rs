//! A TCP proxy in front of the test PostgreSQL, which a test can cut and restore: the database
//! going away and coming back, without stopping the server other tests share.

use std::net::SocketAddr;
use std::sync::Mutex;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinHandle;

pub struct DatabaseProxy {
    /// The database's URL through the proxy.
    pub url: String,
    /// The database's own URL, around the proxy.
    pub direct_url: String,
    address: SocketAddr,
    upstream: SocketAddr,
    /// `false` while cut: every relay ends.
    up: watch::Sender<bool>,
    accepting: Mutex<Option<JoinHandle<()>>>,
}

impl DatabaseProxy {
    /// Proxies to the server of `database_url` (`postgres://user@host:port/name`).
    pub async fn start(database_url: &str) -> Self {
        let (scheme, rest) = database_url.split_once("://").expect("a URL");
        let (user, rest) = rest.split_once('@').expect("a user in the URL");
        let (host, path) = rest.split_once('/').expect("a database name in the URL");
        let upstream = tokio::net::lookup_host(host)
            .await
            .expect("the database host resolves")
            .next()
            .expect("an address for the database host");
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let address = listener.local_addr().expect("local address");
        let proxy = Self {
            url: format!("{scheme}://{user}@{address}/{path}"),
            direct_url: database_url.to_owned(),
            address,
            upstream,
            up: watch::channel(true).0,
            accepting: Mutex::new(None),
        };
        proxy.accept(listener);
        proxy
    }

    /// The database goes away: open connections are dropped and new ones refused.
    pub async fn cut(&self) {
        self.up.send_replace(false);
        let accepting = self.accepting.lock().expect("proxy lock").take();
        if let Some(accepting) = accepting {
            accepting.abort();
            // Once the task is gone, so is its listener: connecting is refused.
            let _ = accepting.await;
        }
    }

    /// The database comes back on the same address.
    pub async fn restore(&self) {
        let listener = TcpListener::bind(self.address).await.expect("rebind");
        self.up.send_replace(true);
        self.accept(listener);
    }

    fn accept(&self, listener: TcpListener) {
        let (upstream, up) = (self.upstream, self.up.subscribe());
        let task = tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                let mut down = up.clone();
                tokio::spawn(async move {
                    let Ok(mut server) = TcpStream::connect(upstream).await else {
                        return;
                    };
                    tokio::select! {
                        _ = tokio::io::copy_bidirectional(&mut client, &mut server) => {}
                        _ = down.wait_for(|up| !*up) => {}
                    }
                });
            }
        });
        *self.accepting.lock().expect("proxy lock") = Some(task);
    }
}

impl Drop for DatabaseProxy {
    fn drop(&mut self) {
        self.up.send_replace(false);
        if let Some(accepting) = self.accepting.lock().expect("proxy lock").take() {
            accepting.abort();
        }
    }
}
