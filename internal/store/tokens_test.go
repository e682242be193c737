package store

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

func testRing(t *testing.T, ids ...string) *Keyring {
	t.Helper()
	var keys []Key
	for _, id := range ids {
		k, err := GenerateKey(id)
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, k)
	}
	return mustRing(t, keys...)
}

func testAuth(openID string) Authorization {
	now := time.Now().UTC().Truncate(time.Second)
	return Authorization{
		OpenID:        openID,
		AppKey:        "ks_app_1",
		Scopes:        []string{"merchant_order", "merchant_item"},
		Status:        StatusActive,
		AccessToken:   "AT-PLAINTEXT-" + openID + "-c0ffee",
		RefreshToken:  "RT-PLAINTEXT-" + openID + "-beef",
		AccessExpiry:  now.Add(2 * time.Hour),
		RefreshExpiry: now.Add(180 * 24 * time.Hour),
		LastRefresh:   now,
	}
}

// embeddedTokens opens an embedded store in dir and a TokenStore on it.
func embeddedTokens(t *testing.T, dir string, ring *Keyring) (*Store, *TokenStore) {
	t.Helper()
	s := openStore(t, Config{DataDir: dir})
	ts, err := s.TokenStore(testCtx(t), ring)
	if err != nil {
		t.Fatal(err)
	}
	return s, ts
}

func TestTokenStoreCRUD(t *testing.T) {
	ctx := testCtx(t)
	_, ts := embeddedTokens(t, t.TempDir(), testRing(t, "k1"))

	a := testAuth("shopA")
	rev, err := ts.Create(ctx, a)
	if err != nil {
		t.Fatal(err)
	}
	got, gotRev, err := ts.Get(ctx, "shopA")
	if err != nil {
		t.Fatal(err)
	}
	if gotRev != rev {
		t.Errorf("rev = %d, want %d", gotRev, rev)
	}
	if got.AccessToken != a.AccessToken || got.RefreshToken != a.RefreshToken || got.Status != StatusActive ||
		!slices.Equal(got.Scopes, a.Scopes) || !got.AccessExpiry.Equal(a.AccessExpiry) || got.AppKey != a.AppKey {
		t.Errorf("Get = %v", got)
	}
	if got.CreatedAt.IsZero() || got.UpdatedAt.IsZero() {
		t.Errorf("timestamps not set: %v", got)
	}

	t.Run("create existing", func(t *testing.T) {
		if _, err := ts.Create(ctx, a); !errors.Is(err, ErrExists) {
			t.Fatalf("err = %v, want ErrExists", err)
		}
	})
	t.Run("update cas", func(t *testing.T) {
		upd := got
		upd.AccessToken = "AT-NEW"
		upd.LeaseOwner = "replica-1"
		next, err := ts.Update(ctx, upd, rev)
		if err != nil {
			t.Fatal(err)
		}
		if next <= rev {
			t.Errorf("next rev %d <= %d", next, rev)
		}
		if _, err := ts.Update(ctx, upd, rev); !errors.Is(err, ErrConflict) {
			t.Fatalf("stale Update err = %v, want ErrConflict", err)
		}
		again, _, err := ts.Get(ctx, "shopA")
		if err != nil || again.AccessToken != "AT-NEW" || again.LeaseOwner != "replica-1" || !again.CreatedAt.Equal(got.CreatedAt) {
			t.Fatalf("after update: %v %v", again, err)
		}
	})
	t.Run("update missing", func(t *testing.T) {
		if _, err := ts.Update(ctx, testAuth("nobody"), 1); !errors.Is(err, ErrConflict) {
			t.Fatalf("err = %v, want ErrConflict", err)
		}
	})
	t.Run("put upsert", func(t *testing.T) {
		for range 2 {
			if _, err := ts.Put(ctx, testAuth("shopB")); err != nil {
				t.Fatal(err)
			}
		}
	})
	t.Run("app record", func(t *testing.T) {
		app := Authorization{AppKey: "ks_app_1", Status: StatusActive, AccessToken: "APP-AT-secret"}
		if _, err := ts.PutApp(ctx, app); err != nil {
			t.Fatal(err)
		}
		got, _, err := ts.GetApp(ctx, "ks_app_1")
		if err != nil || got.AccessToken != app.AccessToken {
			t.Fatalf("GetApp = %v, %v", got, err)
		}
		if _, _, err := ts.GetApp(ctx, "other"); !errors.Is(err, ErrNotFound) {
			t.Errorf("GetApp(other) = %v", err)
		}
	})
	t.Run("list", func(t *testing.T) {
		if _, err := ts.Put(ctx, testAuth("aaa")); err != nil {
			t.Fatal(err)
		}
		list, err := ts.List(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, a := range list {
			ids = append(ids, a.OpenID)
			if a.AccessToken == "" {
				t.Errorf("%s: token not decrypted", a.OpenID)
			}
		}
		if want := []string{"aaa", "shopA", "shopB"}; !slices.Equal(ids, want) {
			t.Errorf("List ids = %v, want %v (no app records)", ids, want)
		}
	})
	t.Run("delete", func(t *testing.T) {
		if err := ts.Delete(ctx, "shopB"); err != nil {
			t.Fatal(err)
		}
		if _, _, err := ts.Get(ctx, "shopB"); !errors.Is(err, ErrNotFound) {
			t.Fatalf("Get deleted = %v, want ErrNotFound", err)
		}
		if err := ts.Delete(ctx, "shopB"); err != nil {
			t.Fatalf("second Delete = %v", err)
		}
		if _, err := ts.Create(ctx, testAuth("shopB")); err != nil {
			t.Fatalf("Create after Delete = %v", err)
		}
	})
	t.Run("invalid keys", func(t *testing.T) {
		for _, id := range []string{"", "a.b", "a*", "a>", "has space", "x/y", "ünï"} {
			if _, _, err := ts.Get(ctx, id); !errors.Is(err, ErrInvalidKey) {
				t.Errorf("Get(%q) = %v, want ErrInvalidKey", id, err)
			}
			if _, err := ts.Put(ctx, Authorization{OpenID: id}); !errors.Is(err, ErrInvalidKey) {
				t.Errorf("Put(%q) = %v, want ErrInvalidKey", id, err)
			}
			if _, err := ts.PutApp(ctx, Authorization{AppKey: id}); !errors.Is(err, ErrInvalidKey) {
				t.Errorf("PutApp(%q) = %v, want ErrInvalidKey", id, err)
			}
		}
	})
}

func TestTokenStoreEmptyList(t *testing.T) {
	_, ts := embeddedTokens(t, t.TempDir(), testRing(t, "k1"))
	list, err := ts.List(testCtx(t))
	if err != nil || len(list) != 0 {
		t.Fatalf("List on empty bucket = %v, %v", list, err)
	}
	n, err := ts.Reencrypt(testCtx(t))
	if err != nil || n != 0 {
		t.Fatalf("Reencrypt on empty bucket = %d, %v", n, err)
	}
}

func TestTokensNotStoredInPlaintext(t *testing.T) {
	ctx := testCtx(t)
	dir := t.TempDir()
	s, ts := embeddedTokens(t, dir, testRing(t, "k1"))

	var secrets [][]byte
	for _, id := range []string{"s1", "s2", "s3"} {
		a := testAuth(id)
		if _, err := ts.Create(ctx, a); err != nil {
			t.Fatal(err)
		}
		secrets = append(secrets, []byte(a.AccessToken), []byte(a.RefreshToken))
	}
	app := Authorization{AppKey: "ks_app_1", AccessToken: "APP-TOKEN-PLAINTEXT-77"}
	if _, err := ts.PutApp(ctx, app); err != nil {
		t.Fatal(err)
	}
	secrets = append(secrets, []byte(app.AccessToken))

	// Raw KV bytes, read directly through JetStream.
	kv, err := s.JetStream().KeyValue(ctx, BucketName)
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"shop.s1", "shop.s2", "shop.s3", "app.ks_app_1"} {
		e, err := kv.Get(ctx, key)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Contains(e.Value(), []byte(`"sealed":{"kid":"k1"`)) || !bytes.Contains(e.Value(), []byte(`"status"`)) && key != "app.ks_app_1" {
			t.Errorf("%s: unexpected record layout: %s", key, e.Value())
		}
		for _, sec := range secrets {
			if bytes.Contains(e.Value(), sec) {
				t.Errorf("%s raw value contains token %q", key, sec)
			}
		}
	}

	// Every file under DataDir, while running and after shutdown.
	check := func(stage string) {
		files := 0
		err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			data, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			files++
			for _, sec := range secrets {
				if bytes.Contains(data, sec) {
					t.Errorf("%s: %s contains token %q", stage, path, sec)
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if files == 0 {
			t.Fatalf("%s: no files under data dir", stage)
		}
	}
	check("running")
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	check("closed")
}

func TestReencryptAfterRotation(t *testing.T) {
	ctx := testCtx(t)
	dir := t.TempDir()
	oldKey, _ := GenerateKey("old")
	newKey, _ := GenerateKey("new")
	oldRing := mustRing(t, oldKey)
	rotated := mustRing(t, newKey, oldKey)
	onlyNew := mustRing(t, newKey)

	s := openStore(t, Config{DataDir: dir})
	tsOld, err := s.TokenStore(ctx, oldRing)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]Authorization{}
	for _, id := range []string{"r1", "r2", "r3"} {
		a := testAuth(id)
		if _, err := tsOld.Create(ctx, a); err != nil {
			t.Fatal(err)
		}
		want[id] = a
	}
	if _, err := tsOld.PutApp(ctx, Authorization{AppKey: "app1", AccessToken: "APP-AT"}); err != nil {
		t.Fatal(err)
	}
	before, _, err := tsOld.Get(ctx, "r1")
	if err != nil {
		t.Fatal(err)
	}

	tsNewOnly, err := s.TokenStore(ctx, onlyNew)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := tsNewOnly.Get(ctx, "r1"); !errors.Is(err, ErrUnknownKey) {
		t.Fatalf("new-only ring before reencrypt: err = %v, want ErrUnknownKey", err)
	}

	tsRot, err := s.TokenStore(ctx, rotated)
	if err != nil {
		t.Fatal(err)
	}
	// One record is already written under the new primary: not rewritten.
	if _, err := tsRot.Put(ctx, testAuth("r4")); err != nil {
		t.Fatal(err)
	}
	n, err := tsRot.Reencrypt(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if n != 4 { // r1..r3 + app1
		t.Errorf("Reencrypt rewrote %d, want 4", n)
	}
	if n, err := tsRot.Reencrypt(ctx); err != nil || n != 0 {
		t.Errorf("second Reencrypt = %d, %v; want 0", n, err)
	}

	for _, ts := range []*TokenStore{tsRot, tsNewOnly} {
		for id, a := range want {
			got, _, err := ts.Get(ctx, id)
			if err != nil {
				t.Fatalf("Get(%s): %v", id, err)
			}
			if got.AccessToken != a.AccessToken || got.RefreshToken != a.RefreshToken {
				t.Errorf("Get(%s) tokens differ after reencrypt", id)
			}
		}
		if app, _, err := ts.GetApp(ctx, "app1"); err != nil || app.AccessToken != "APP-AT" {
			t.Errorf("GetApp after reencrypt = %v, %v", app, err)
		}
	}
	after, _, _ := tsNewOnly.Get(ctx, "r1")
	if !after.UpdatedAt.Equal(before.UpdatedAt) {
		t.Errorf("Reencrypt changed UpdatedAt: %v -> %v", before.UpdatedAt, after.UpdatedAt)
	}
	if _, _, err := tsOld.Get(ctx, "r1"); !errors.Is(err, ErrUnknownKey) {
		t.Errorf("old-only ring after reencrypt: err = %v, want ErrUnknownKey", err)
	}
}

func TestRecordBoundToKey(t *testing.T) {
	// A sealed value copied to another key must not decrypt (AAD = KV key).
	ctx := testCtx(t)
	_, ts := embeddedTokens(t, t.TempDir(), testRing(t, "k1"))
	if _, err := ts.Create(ctx, testAuth("victim")); err != nil {
		t.Fatal(err)
	}
	e, err := ts.KeyValue().Get(ctx, "shop.victim")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ts.KeyValue().Put(ctx, "shop.attacker", e.Value()); err != nil {
		t.Fatal(err)
	}
	if _, _, err := ts.Get(ctx, "attacker"); !errors.Is(err, ErrDecrypt) {
		t.Fatalf("Get(copied record) = %v, want ErrDecrypt", err)
	}
	if _, err := ts.List(ctx); !errors.Is(err, ErrDecrypt) {
		t.Fatalf("List with a bad record = %v, want ErrDecrypt", err)
	}
	if _, err := ts.KeyValue().Put(ctx, "shop.junk", []byte("not json")); err != nil {
		t.Fatal(err)
	}
	if _, _, err := ts.Get(ctx, "junk"); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("Get(junk) = %v, want ErrCorrupt", err)
	}
}

func TestUpdateConcurrentCAS(t *testing.T) {
	ctx := testCtx(t)
	_, ts := embeddedTokens(t, t.TempDir(), testRing(t, "k1"))
	rev, err := ts.Create(ctx, testAuth("race"))
	if err != nil {
		t.Fatal(err)
	}
	const n = 8
	errs := make(chan error, n)
	for i := range n {
		go func() {
			a := testAuth("race")
			a.LeaseOwner = "replica-" + string(rune('a'+i))
			_, err := ts.Update(context.WithoutCancel(ctx), a, rev)
			errs <- err
		}()
	}
	wins := 0
	for range n {
		err := <-errs
		switch {
		case err == nil:
			wins++
		case !errors.Is(err, ErrConflict):
			t.Errorf("unexpected error: %v", err)
		}
	}
	if wins != 1 {
		t.Errorf("%d concurrent CAS updates won, want exactly 1", wins)
	}
}

func TestListMetadataDecryptsNothing(t *testing.T) {
	ctx := testCtx(t)
	_, ts := embeddedTokens(t, t.TempDir(), testRing(t, "k1"))
	for _, id := range []string{"shopB", "shopA"} {
		if _, err := ts.Create(ctx, testAuth(id)); err != nil {
			t.Fatal(err)
		}
	}
	// A ring without the record's key can still list the metadata.
	_, other := embeddedTokens(t, t.TempDir(), testRing(t, "zz"))
	other.kv = ts.kv
	meta, err := other.ListMetadata(ctx)
	if err != nil {
		t.Fatal(err)
	}
	full, err := ts.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(meta) != 2 || meta[0].OpenID != "shopA" || meta[1].OpenID != "shopB" {
		t.Fatalf("metadata %v", meta)
	}
	for i := range meta {
		if meta[i].AccessToken != "" || meta[i].RefreshToken != "" {
			t.Fatal("metadata carries tokens")
		}
		if meta[i].Status != full[i].Status || !meta[i].AccessExpiry.Equal(full[i].AccessExpiry) || len(meta[i].Scopes) != len(full[i].Scopes) {
			t.Fatalf("metadata differs from the full record: %v vs %v", meta[i], full[i])
		}
	}
}
