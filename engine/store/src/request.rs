//! The request an audit entry comes from. The server runs each request's store work inside
//! [`with_request_id`]; every audit entry written in that scope on this thread carries the id.
//! The scope is per thread because every store call runs on its caller's thread (the
//! PostgreSQL backend drives its futures there too), so it reaches the entries written deep
//! inside a transaction without a parameter on every store method.

use std::cell::RefCell;

thread_local! {
    static REQUEST_ID: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// Runs `f` with `id` as the request id of the audit entries it writes on this thread; the
/// previous scope is restored afterwards, also when `f` panics.
pub fn with_request_id<T>(id: Option<String>, f: impl FnOnce() -> T) -> T {
    struct Restore(Option<String>);
    impl Drop for Restore {
        fn drop(&mut self) {
            let previous = self.0.take();
            REQUEST_ID.with(|r| *r.borrow_mut() = previous);
        }
    }
    let _restore = Restore(REQUEST_ID.with(|r| r.replace(id)));
    f()
}

/// The request id of the current scope, if any.
pub(crate) fn current() -> Option<String> {
    REQUEST_ID.with(|r| r.borrow().clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_nest_and_restore() {
        assert_eq!(current(), None);
        with_request_id(Some("a".into()), || {
            assert_eq!(current().as_deref(), Some("a"));
            with_request_id(Some("b".into()), || {
                assert_eq!(current().as_deref(), Some("b"))
            });
            assert_eq!(current().as_deref(), Some("a"));
        });
        assert_eq!(current(), None);
        let _ = std::panic::catch_unwind(|| with_request_id(Some("c".into()), || panic!("x")));
        assert_eq!(current(), None);
    }
}
