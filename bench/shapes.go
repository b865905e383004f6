package bench

import (
	"fmt"
	"os"
	"strconv"
	"time"
)

// ScaleEnv is the environment variable that divides the published shapes;
// see the package documentation.
const ScaleEnv = "SWAPEXEC_BENCH_SCALE"

// DefaultScale is the divisor used when ScaleEnv is unset or empty.
const DefaultScale = 10

// SpinIterations is the fixed number of xorshift rounds in BenchmarkCPU's
// task, chosen once to take about 1µs on the machine of the committed
// results. It is a constant, not calibrated at run time, so that every run
// does the same work.
const SpinIterations = 700

// TaskSleep is how long each task of the published shapes sleeps.
const TaskSleep = 10 * time.Millisecond

// Shape is one published workload: Users goroutines each submit
// TasksPerUser tasks that sleep TaskSleep, to an executor of Workers workers
// and a queue of QueueSize.
type Shape struct {
	Name         string // the publisher's label for the full-size shape, e.g. "100u-10Kt"
	Users        int
	TasksPerUser int
	Workers      int
	QueueSize    int
}

// Tasks returns the number of tasks in the shape.
func (s Shape) Tasks() int { return s.Users * s.TasksPerUser }

// String describes the shape's actual sizes.
func (s Shape) String() string {
	return fmt.Sprintf("%d users × %d tasks on %d workers, queue %d", s.Users, s.TasksPerUser, s.Workers, s.QueueSize)
}

// Scale returns the divisor from ScaleEnv, DefaultScale when it is unset, or
// an error naming the variable when it is not a positive integer.
func Scale() (int, error) {
	v := os.Getenv(ScaleEnv)
	if v == "" {
		return DefaultScale, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		return 0, fmt.Errorf("bench: %s is %q; want a positive integer (1 is full size)", ScaleEnv, v)
	}
	return n, nil
}

// AntsShape returns ants' published shape (1,000,000 tasks, 50,000 workers,
// one submitter, no queue) divided by scale.
func AntsShape(scale int) Shape {
	return Shape{Name: "1Mt-50Kw", Users: 1, TasksPerUser: div(1_000_000, scale), Workers: div(50_000, scale)}
}

// PondShapes returns pond's published shapes (1,000,000 tasks spread over
// 1 to 1,000,000 users, 200,000 workers, a queue of 1,000,000) divided by
// scale. The tasks per user are divided while there are enough of them, then
// the users, so that every shape keeps its total.
func PondShapes(scale int) []Shape {
	full := []struct {
		name         string
		users, tasks int
	}{
		{"1u-1Mt", 1, 1_000_000},
		{"100u-10Kt", 100, 10_000},
		{"1Ku-1Kt", 1_000, 1_000},
		{"10Ku-100t", 10_000, 100},
		{"1Mu-1t", 1_000_000, 1},
	}
	shapes := make([]Shape, len(full))
	for i, f := range full {
		users, tasks := f.users, f.tasks
		if tasks >= scale {
			tasks = div(tasks, scale)
		} else {
			users = div(users, scale)
		}
		shapes[i] = Shape{Name: f.name, Users: users, TasksPerUser: tasks, Workers: div(200_000, scale), QueueSize: div(1_000_000, scale)}
	}
	return shapes
}

// div divides n by scale, never below 1.
func div(n, scale int) int {
	return max(n/scale, 1)
}
