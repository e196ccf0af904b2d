//! Shared cases: accounts, sessions, API tokens.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use super::*;

fn account(e: &mut DeterministicEntropy, tenant: TenantId, login: &str, role: Role) -> Account {
    Account {
        id: AccountId::generate(e).unwrap(),
        tenant,
        login: login.into(),
        display_name: "Erika Mustermann".into(),
        role,
        password_hash: "$argon2id$v=19$m=8,t=1,p=1$c2FsdHNhbHQ$aGFzaA".into(),
        disabled: false,
        created: T0,
        totp_secret: None,
    }
}

pub(crate) fn accounts_have_unique_logins_per_tenant<S: Store>(s: &S) {
    let mut e = DeterministicEntropy::new(30);
    let other = TenantId::new("wegberg", "WEG").unwrap();
    let a = account(&mut e, tenant(), "E.Muster", Role::CaseWorker);
    s.create_account(&a).unwrap();
    // The login is stored normalised and found case-insensitively.
    let found = s.account_by_login(&tenant(), "e.muster").unwrap().unwrap();
    assert_eq!(found.id, a.id);
    assert_eq!(found.login, "e.muster");
    let again = account(&mut e, tenant(), "e.muster", Role::TenantAdmin);
    assert_eq!(s.create_account(&again).unwrap_err().code(), "LOT-S004");
    // The same login in another tenant is another account, invisible from the first.
    let twin = account(&mut e, other.clone(), "e.muster", Role::FormDesigner);
    s.create_account(&twin).unwrap();
    assert_eq!(
        s.account_by_login(&other, "E.MUSTER").unwrap().unwrap().id,
        twin.id
    );
    assert_eq!(s.accounts(&tenant()).unwrap().len(), 1);
    assert_eq!(s.accounts(&other).unwrap().len(), 1);
    assert!(s.account_by_login(&tenant(), "nobody").unwrap().is_none());
    assert!(
        s.account_by_login(&tenant(), "bad login")
            .unwrap()
            .is_none()
    );

    let mut changed = found.clone();
    changed.role = Role::TenantAdmin;
    changed.disabled = true;
    changed.login = "hijack".into();
    changed.tenant = other.clone();
    changed.totp_secret = Some("JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP".into());
    s.update_account(&changed).unwrap();
    let stored = s.account(&a.id).unwrap().unwrap();
    assert_eq!(stored.role, Role::TenantAdmin);
    assert_eq!(
        stored.totp_secret, changed.totp_secret,
        "a second factor is kept"
    );
    assert!(stored.disabled);
    assert_eq!(stored.login, "e.muster", "the login stays");
    assert_eq!(stored.tenant, tenant(), "the tenant stays");
    let ghost = account(&mut e, tenant(), "ghost", Role::CaseWorker);
    assert_eq!(s.update_account(&ghost).unwrap_err().code(), "LOT-S002");
}

pub(crate) fn sessions_are_found_by_hash_and_end<S: Store>(s: &S) {
    let mut e = DeterministicEntropy::new(31);
    let a = account(&mut e, tenant(), "sb1", Role::CaseWorker);
    let b = account(&mut e, tenant(), "sb2", Role::CaseWorker);
    let secret = new_secret(&mut e, "").unwrap();
    let session = |hash, who: &Account, expires| Session {
        hash,
        account: who.id,
        tenant: tenant(),
        created: T0,
        expires,
    };
    let one = session(SecretHash::of(&secret), &a, T0 + Duration::hours(8));
    s.create_session(&one).unwrap();
    assert_eq!(s.create_session(&one).unwrap_err().code(), "LOT-S004");
    assert_eq!(s.session(&SecretHash::of(&secret)).unwrap().unwrap(), one);
    assert!(s.session(&SecretHash::of("guess")).unwrap().is_none());
    let two = session(SecretHash::of("x2"), &a, T0 + Duration::hours(1));
    let three = session(SecretHash::of("x3"), &b, T0 + Duration::hours(8));
    s.create_session(&two).unwrap();
    s.create_session(&three).unwrap();
    assert_eq!(s.sweep_sessions(T0 + Duration::hours(2)).unwrap(), 1);
    assert!(s.session(&two.hash).unwrap().is_none());
    assert_eq!(s.delete_sessions_of(&a.id).unwrap(), 1);
    assert!(s.session(&one.hash).unwrap().is_none());
    assert!(s.session(&three.hash).unwrap().is_some());
    assert!(s.delete_session(&three.hash).unwrap());
    assert!(!s.delete_session(&three.hash).unwrap());
}

pub(crate) fn api_tokens_are_found_by_hash_and_revoked_per_tenant<S: Store>(s: &S) {
    let mut e = DeterministicEntropy::new(32);
    let other = TenantId::new("wegberg", "WEG").unwrap();
    let a = account(&mut e, tenant(), "fachverfahren", Role::CaseWorker);
    let secret = new_secret(&mut e, "lotse_").unwrap();
    let token = ApiToken {
        id: ApiTokenId::generate(&mut e).unwrap(),
        hash: SecretHash::of(&secret),
        tenant: tenant(),
        account: a.id,
        label: "Hundesteuer".into(),
        created: T0,
        revoked: false,
    };
    s.create_api_token(&token).unwrap();
    assert_eq!(s.create_api_token(&token).unwrap_err().code(), "LOT-S004");
    assert_eq!(
        s.api_token(&SecretHash::of(&secret)).unwrap().unwrap(),
        token
    );
    assert_eq!(s.api_tokens(&tenant()).unwrap().len(), 1);
    assert!(s.api_tokens(&other).unwrap().is_empty());
    // Another tenant cannot revoke it, even knowing the id.
    assert!(!s.revoke_api_token(&other, &token.id).unwrap());
    assert!(!s.api_token(&token.hash).unwrap().unwrap().revoked);
    assert!(s.revoke_api_token(&tenant(), &token.id).unwrap());
    assert!(s.api_token(&token.hash).unwrap().unwrap().revoked);
}
