package sandbox

import (
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// seededPeople seeds only the people part of a tenant, as seedTenant does.
func seededPeople(seed int64, n int) *peopleState {
	t := &tenant{MID: "124", Members: []*member{{ID: 18400}}}
	t.seedPeople(rngFor(seed, "people"), n)
	return &t.People
}

func TestSeedPeopleIsDeterministic(t *testing.T) {
	t.Parallel()
	a, b, other := seededPeople(7, 500), seededPeople(7, 500), seededPeople(8, 500)
	if !reflect.DeepEqual(a.Persons, b.Persons) || !reflect.DeepEqual(a.Crowds, b.Crowds) ||
		!reflect.DeepEqual(a.Policies, b.Policies) || a.ConsentSalt != b.ConsentSalt {
		t.Fatal("the same seed gave two different people states")
	}
	if a.Persons[0].UUID == other.Persons[0].UUID || a.Persons[0].Mobile == other.Persons[0].Mobile {
		t.Fatal("another seed gave the same persons")
	}
	for i := range a.Persons[:50] {
		if a.authorizedCount(i) != b.authorizedCount(i) {
			t.Fatalf("person %d: consent history differs between identical tenants", i)
		}
	}
}

func TestSeededPersonsAreRealisticAndUnique(t *testing.T) {
	t.Parallel()
	const n = 3000
	p := seededPeople(1, n)
	if p.personCount() != n || p.Seeded != n {
		t.Fatalf("%d persons, %d seeded", p.personCount(), p.Seeded)
	}
	mobiles, emails := map[string]bool{}, map[string]bool{}
	withEmail, withOpenID := 0, 0
	for i, pr := range p.Persons {
		if !isMobile(pr.Mobile) || mobiles[pr.Mobile] {
			t.Fatalf("person %d: mobile %q invalid or repeated", i, pr.Mobile)
		}
		mobiles[pr.Mobile] = true
		if pr.Email != "" {
			if identityProblem(idEmail, pr.Email) != "" || emails[pr.Email] {
				t.Fatalf("person %d: email %q invalid or repeated", i, pr.Email)
			}
			emails[pr.Email], withEmail = true, withEmail+1
		}
		if pr.OpenID != "" {
			withOpenID++
		}
		if r := utf8.RuneCountInString(pr.Name); r < 2 || r > 3 || len(pr.UUID) != 22 || pr.City == "" || pr.Gender == "" {
			t.Fatalf("person %d: %+v", i, pr)
		}
	}
	if withEmail < n/2 || withEmail > n*8/10 || withOpenID < n/3 || withOpenID > n*6/10 {
		t.Fatalf("%d with email, %d with openid, of %d", withEmail, withOpenID, n)
	}
	span := p.Persons[n-1].Created - p.Persons[0].Created
	if span < 700*24*3600 || p.Persons[n-1].Created > peopleSeedEnd {
		t.Fatalf("created timestamps span %v, last %d", time.Duration(span)*time.Second, p.Persons[n-1].Created)
	}
}

func TestSeededCrowdsHoldDistinctKnownMembersInJoiningOrder(t *testing.T) {
	t.Parallel()
	p := seededPeople(1, 20000)
	if len(p.Crowds) != len(crowdSeeds) {
		t.Fatalf("%d crowds", len(p.Crowds))
	}
	sizes := map[string]int{}
	for _, cr := range p.Crowds {
		seen := map[string]bool{}
		for k, m := range cr.Members {
			if seen[m.OmniUserUUID] || !p.hasPerson(m.OmniUserUUID) {
				t.Fatalf("%s: member %s repeated or unknown", cr.Name, m.OmniUserUUID)
			}
			seen[m.OmniUserUUID] = true
			if k > 0 && m.Joined < cr.Members[k-1].Joined {
				t.Fatalf("%s: members out of joining order", cr.Name)
			}
		}
		sizes[cr.Name] = len(cr.Members)
		members, ok := p.crowdMembers(cr.GroupID)
		if !ok || len(members) != len(cr.Members) || members[0].Mobile == "" {
			t.Fatalf("crowdMembers(%d): %d members, ok %v", cr.GroupID, len(members), ok)
		}
	}
	if sizes["测试人群"] != 30 || sizes["公众号活跃粉丝"] < 3000 || sizes["华东区经销商联系人"] < 100 {
		t.Fatalf("crowd sizes %v", sizes)
	}
	fans, _ := p.crowdMembers(p.Crowds[6].GroupID)
	i, _ := p.findUUID(fans[0].OmniUserUUID)
	if p.Persons[i].OpenID == "" {
		t.Fatal("a 公众号 fan without an openid")
	}
	if _, ok := p.crowdMembers(1); ok {
		t.Fatal("crowdMembers found a crowd that does not exist")
	}
}

func TestEnsurePersonFindsMergesOrCreates(t *testing.T) {
	t.Parallel()
	p := seededPeople(1, 300)
	ensure := func(name, mobile, email string, wantCreated bool) personContact {
		t.Helper()
		got, created := p.ensurePerson(randomUUID22, name, mobile, email)
		if created != wantCreated {
			t.Fatalf("ensurePerson(%q, %q, %q) created %v", name, mobile, email, created)
		}
		return got
	}
	known := p.Persons[10]
	if got := ensure("某某", " "+known.Mobile+" ", "", false); got.OmniUserUUID != known.UUID || got.Name != known.Name {
		t.Fatalf("by mobile: %+v, want %s", got, known.UUID)
	}
	// Found by mobile, the person gains a free email.
	noEmail := slices.IndexFunc(p.Persons, func(pr person) bool { return pr.Email == "" })
	got := ensure("", p.Persons[noEmail].Mobile, "New.Address@Example.com", false)
	if got.Email != "new.address@example.com" || ensure("", "", "new.address@example.com", false).OmniUserUUID != got.OmniUserUUID {
		t.Fatalf("merged email: %+v", got)
	}
	before := p.personCount()
	fresh := ensure("林晓", "13900001111", "lin@example.cn", true)
	if p.personCount() != before+1 || fresh.Name != "林晓" || !p.hasPerson(fresh.OmniUserUUID) {
		t.Fatalf("created %+v, %d persons", fresh, p.personCount())
	}
	if again := ensure("林晓", "", "lin@example.cn", false); again.OmniUserUUID != fresh.OmniUserUUID || p.personCount() != before+1 {
		t.Fatal("the same email created a second person")
	}
	if none := ensure("无名", "", "", false); none.OmniUserUUID != "" || p.personCount() != before+1 {
		t.Fatal("a person without identities was created")
	}
}

// The tenant is persisted as JSON: after loading, the unexported indexes
// must come back by themselves.
func TestPeopleStateWorksAfterAJSONRoundTrip(t *testing.T) {
	t.Parallel()
	p := seededPeople(3, 400)
	raw, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	var loaded peopleState
	if err := json.Unmarshal(raw, &loaded); err != nil {
		t.Fatal(err)
	}
	pr := p.Persons[123]
	if i, ok := loaded.find(idMobile, pr.Mobile); !ok || i != 123 || !loaded.hasPerson(pr.UUID) {
		t.Fatal("lookup by mobile failed after loading")
	}
	cr := loaded.Crowds[0]
	size := len(cr.Members)
	if cr.add(cr.Members[0].OmniUserUUID, 1) || len(cr.Members) != size {
		t.Fatal("re-adding a member after loading duplicated it")
	}
	for i := range 50 {
		if loaded.authorizedCount(i) != p.authorizedCount(i) {
			t.Fatalf("person %d: consent history changed by loading", i)
		}
	}
}

func TestConsentHistoryCoversPartOfTheSeededPersonsOnly(t *testing.T) {
	t.Parallel()
	p := seededPeople(1, 2000)
	with := 0
	for i := range p.Persons {
		if p.authorizedCount(i) > 0 {
			with++
		}
	}
	if with < 1200 || with > 1900 {
		t.Fatalf("%d of 2000 persons authorised something", with)
	}
	i := p.addPerson(person{UUID: "CreatedThroughTheAPI22", Mobile: "13700000000"})
	if p.authorizedCount(i) != 0 {
		t.Fatal("a person created after seeding has a consent history")
	}
	for _, pol := range p.policiesFor(0) {
		if !strings.HasPrefix(pol.PolicyInfos[0].Info, "<p>") || pol.MID != 124 || pol.OwnerID != 18400 {
			t.Fatalf("policy %+v", pol)
		}
	}
}

func BenchmarkSeedPeople20000(b *testing.B) {
	for b.Loop() {
		seededPeople(1, 20000)
	}
}
