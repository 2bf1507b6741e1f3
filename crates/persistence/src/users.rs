//! Users: accounts, password hashes and the platform administrator.

use crate::entity::user;
use crate::errors::{
    conflict_or_internal, internal, is_unique_violation, stored_email, stored_optional_name,
};
use crate::{NewUser, Page, Store, write_transaction};
use chrono::{DateTime, Utc};
use portcullis_domain::{Email, Error, Name, User};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, IntoActiveModel, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect, QueryTrait, TransactionTrait,
};
use uuid::Uuid;

const DUPLICATE_EMAIL: &str = "a user with this email already exists";

impl TryFrom<user::Model> for User {
    type Error = Error;

    fn try_from(row: user::Model) -> Result<Self, Error> {
        Ok(Self {
            id: row.id,
            email: stored_email(&row.email)?,
            name: stored_optional_name(row.name.as_deref())?,
            created_at: row.created_at,
            platform_admin: row.platform_admin,
            disabled: row.disabled,
        })
    }
}

impl Store {
    pub async fn create_user(&self, user: NewUser) -> Result<User, Error> {
        let row = user_row(user);
        user::Entity::insert(row.clone().into_active_model())
            .exec_without_returning(&self.db)
            .await
            .map_err(|err| conflict_or_internal(err, DUPLICATE_EMAIL))?;
        row.try_into()
    }

    /// Inserts `user` only while no user exists; `None` when one does. Signups racing to be the
    /// first are serialized: SQLite's write transaction takes the database lock at `BEGIN`, and
    /// on PostgreSQL the table lock below conflicts with itself and with every insert.
    pub async fn create_first_user(&self, user: NewUser) -> Result<Option<User>, Error> {
        let tx = self.begin_write().await?;
        if self.is_postgres() {
            tx.execute_unprepared("LOCK TABLE users IN SHARE ROW EXCLUSIVE MODE")
                .await
                .map_err(internal)?;
        }
        if user::Entity::find().count(&tx).await.map_err(internal)? > 0 {
            tx.rollback().await.map_err(internal)?;
            return Ok(None);
        }
        let row = user_row(user);
        user::Entity::insert(row.clone().into_active_model())
            .exec_without_returning(&tx)
            .await
            .map_err(|err| conflict_or_internal(err, DUPLICATE_EMAIL))?;
        tx.commit().await.map_err(internal)?;
        row.try_into().map(Some)
    }

    pub async fn count_users(&self) -> Result<u64, Error> {
        user::Entity::find().count(&self.db).await.map_err(internal)
    }

    pub async fn user(&self, id: Uuid) -> Result<Option<User>, Error> {
        let row = user::Entity::find_by_id(id)
            .one(&self.db)
            .await
            .map_err(internal)?;
        row.map(User::try_from).transpose()
    }

    pub async fn user_by_email(&self, email: &Email) -> Result<Option<User>, Error> {
        self.user_row_by_email(email)
            .await?
            .map(User::try_from)
            .transpose()
    }

    pub async fn user_with_password_hash(
        &self,
        email: &Email,
    ) -> Result<Option<(User, String)>, Error> {
        self.user_row_by_email(email)
            .await?
            .map(|row| {
                let hash = row.password_hash.clone();
                Ok((User::try_from(row)?, hash))
            })
            .transpose()
    }

    pub async fn password_hash(&self, user_id: Uuid) -> Result<Option<String>, Error> {
        user::Entity::find_by_id(user_id)
            .select_only()
            .column(user::Column::PasswordHash)
            .into_tuple::<String>()
            .one(&self.db)
            .await
            .map_err(internal)
    }

    pub async fn set_password_hash(&self, user_id: Uuid, hash: &str) -> Result<(), Error> {
        user::Entity::update_many()
            .col_expr(user::Column::PasswordHash, Expr::value(hash))
            .filter(user::Column::Id.eq(user_id))
            .exec(&self.db)
            .await
            .map_err(internal)?;
        Ok(())
    }

    pub async fn list_users(&self, page: Page) -> Result<Vec<User>, Error> {
        let rows = user::Entity::find()
            .apply_if(page.before, |query, before| {
                query.filter(user::Column::Id.lt(before))
            })
            .order_by_desc(user::Column::Id)
            .limit(page.limit)
            .all(&self.db)
            .await
            .map_err(internal)?;
        rows.into_iter().map(User::try_from).collect()
    }

    pub async fn update_user(
        &self,
        id: Uuid,
        disabled: Option<bool>,
        platform_admin: Option<bool>,
    ) -> Result<Option<User>, Error> {
        if disabled.is_some() || platform_admin.is_some() {
            let mut update = user::Entity::update_many().filter(user::Column::Id.eq(id));
            if let Some(disabled) = disabled {
                update = update.col_expr(user::Column::Disabled, Expr::value(disabled));
            }
            if let Some(platform_admin) = platform_admin {
                update = update.col_expr(user::Column::PlatformAdmin, Expr::value(platform_admin));
            }
            update.exec(&self.db).await.map_err(internal)?;
        }
        self.user(id).await
    }

    /// The bootstrap administrator: promotes, re-enables and re-keys the user with this email,
    /// or creates it.
    pub async fn upsert_admin(
        &self,
        email: &Email,
        password_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<User, Error> {
        let row = match self.try_upsert_admin(email, password_hash, now).await {
            // Another replica starting at the same time inserted it between our read and our
            // insert (PostgreSQL; SQLite's write lock rules this out): it exists now, so update.
            Err(err) if is_unique_violation(&err) => self
                .try_upsert_admin(email, password_hash, now)
                .await
                .map_err(|err| conflict_or_internal(err, DUPLICATE_EMAIL)),
            outcome => outcome.map_err(internal),
        }?;
        row.try_into()
    }

    async fn try_upsert_admin(
        &self,
        email: &Email,
        password_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<user::Model, DbErr> {
        let tx = self.db.begin_with_options(write_transaction()).await?;
        let existing = user::Entity::find()
            .filter(user::Column::Email.eq(email.as_str()))
            .one(&tx)
            .await?;
        let row = match existing {
            Some(row) => {
                user::Entity::update_many()
                    .col_expr(user::Column::PasswordHash, Expr::value(password_hash))
                    .col_expr(user::Column::PlatformAdmin, Expr::value(true))
                    .col_expr(user::Column::Disabled, Expr::value(false))
                    .filter(user::Column::Id.eq(row.id))
                    .exec(&tx)
                    .await?;
                user::Model {
                    password_hash: password_hash.to_owned(),
                    platform_admin: true,
                    disabled: false,
                    ..row
                }
            }
            None => {
                let row = user::Model {
                    id: portcullis_domain::new_id(),
                    email: email.as_str().to_owned(),
                    name: None,
                    password_hash: password_hash.to_owned(),
                    platform_admin: true,
                    disabled: false,
                    created_at: now,
                };
                user::Entity::insert(row.clone().into_active_model())
                    .exec_without_returning(&tx)
                    .await?;
                row
            }
        };
        tx.commit().await?;
        Ok(row)
    }

    async fn user_row_by_email(&self, email: &Email) -> Result<Option<user::Model>, Error> {
        user::Entity::find()
            .filter(user::Column::Email.eq(email.as_str()))
            .one(&self.db)
            .await
            .map_err(internal)
    }
}

fn user_row(user: NewUser) -> user::Model {
    user::Model {
        id: user.id,
        email: user.email.as_str().to_owned(),
        name: user.name.map(Name::into_inner),
        password_hash: user.password_hash,
        platform_admin: user.platform_admin,
        disabled: false,
        created_at: user.created_at,
    }
}
