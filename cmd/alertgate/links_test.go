package main

import (
	"strings"
	"testing"

	"github.com/alertgate/alertgate/actionlink"
	"github.com/alertgate/alertgate/notify"
	"github.com/alertgate/alertgate/snapshot"
)

func TestDevLinksSurviveReload(t *testing.T) {
	f := serveFlags{dev: true, listen: "127.0.0.1:9999", redisURL: "redis://127.0.0.1:1"}
	first, err := loadSnapshot(f, func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	if first.Links == nil {
		t.Fatal("dev mode has no link signer")
	}
	s := &server{}
	s.current.Store(first)
	p := notify.Page{Incident: "17", User: "alice", Epoch: 1, Step: 1, Notifier: "console"}
	if err := s.pageLinks(&p); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(p.Links.Acknowledge, "http://127.0.0.1:9999/a/") || p.Links.Resolve == "" || p.Links.Open == "" {
		t.Fatalf("dev page links %+v", p.Links)
	}
	// A reload builds a new snapshot with the same process key: links
	// already sent keep working.
	again, err := loadSnapshot(f, func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	tok := strings.TrimPrefix(p.Links.Acknowledge, "http://127.0.0.1:9999/a/")
	if c, err := again.Links.Verify(tok); err != nil || c.Action != actionlink.Acknowledge || c.User != "alice" {
		t.Fatalf("a dev link after a reload: %+v, %v", c, err)
	}
}

func TestPageLinksByKind(t *testing.T) {
	snap, err := loadSnapshot(serveFlags{dev: true, redisURL: "redis://127.0.0.1:1"}, func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	s := &server{}
	s.current.Store(snap)

	resolved := notify.Page{Incident: "17", User: "bob", Kind: notify.KindResolved, Notifier: "console"}
	if err := s.pageLinks(&resolved); err != nil || resolved.Links.Open == "" || resolved.Links.Acknowledge != "" || resolved.Links.Resolve != "" {
		t.Errorf("resolved notice links %+v, %v; want only open", resolved.Links, err)
	}
	digest := notify.Page{Kind: notify.KindDigest, Notifier: "console", Links: notify.Links{Open: "stale"}}
	if err := s.pageLinks(&digest); err != nil || digest.Links != (notify.Links{}) {
		t.Errorf("digest links %+v, %v; want none (its items get theirs)", digest.Links, err)
	}
	channel := notify.Page{Incident: "18", Notifier: "ops-slack", Epoch: 2}
	if err := s.pageLinks(&channel); err != nil {
		t.Fatal(err)
	}
	c, err := snap.Links.Verify(channel.Links.Acknowledge[strings.Index(channel.Links.Acknowledge, "/a/")+3:])
	if err != nil || c.User != "#ops-slack" || c.Epoch != 2 {
		t.Errorf("channel page link claims %+v, %v", c, err)
	}

	// Without a public URL, pages carry no links.
	snap.Config.PublicURL = ""
	off, err := snapshot.Build(snap.Config)
	if err != nil {
		t.Fatal(err)
	}
	s.current.Store(off)
	p := notify.Page{Incident: "19", User: "alice"}
	if err := s.pageLinks(&p); err != nil || p.Links != (notify.Links{}) {
		t.Errorf("links without a public URL: %+v, %v", p.Links, err)
	}
}
